using System.Text.Json.Nodes;
using FineTune.Kit.Tests.Cli;

namespace FineTune.Kit.Tests.Serving;

/// <summary>`ftk bench export` at a tiny size: it runs for each type and the file sizes fall as the types narrow.</summary>
public class BenchExportTests
{
    [Fact]
    public void Bench_export_times_each_type_against_f32()
    {
        var (exit, output, err) = CliRunner.Run("bench", "export", "--model", TinyExportModels.Folder("llama"), "--repeats", "1", "--json");
        Assert.True(exit == 0, err);
        var types = JsonNode.Parse(output)!["types"]!.AsArray();
        Assert.Equal(["F32", "F16", "Q8_0"], types.Select(t => (string)t!["type"]!));
        Assert.All(types, t => Assert.True((double)t!["seconds"]! > 0));
        var size = types.Select(t => (double)t!["size_vs_f32"]!).ToArray();
        Assert.Equal(1.0, size[0]);
        // matrices take 2 bytes a value in F16 and 34/32 in Q8_0 (norms and the tokenizer stay as they are)
        Assert.InRange(size[1], 0.5, 0.65);
        Assert.InRange(size[2], 34.0 / 128, 0.4);
    }
}
