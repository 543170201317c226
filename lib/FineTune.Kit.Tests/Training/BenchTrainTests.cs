using System.Text.Json.Nodes;
using FineTune.Kit.Tests.Cli;

namespace FineTune.Kit.Tests.Training;

/// <summary>`ftk bench train` at a tiny size: each memory saver runs, reports itself and learns the same.</summary>
public class BenchTrainTests
{
    private static readonly string[] Tiny =
        ["bench", "train", "--layers", "2", "--hidden", "32", "--heads", "4", "--kv-heads", "2", "--ffn", "48", "--vocab-size", "300",
         "--seq-len", "32", "--batch-size", "2", "--steps", "2", "--lora-r", "4", "--targets", "all-linear", "--json"];

    private static JsonObject Run(params string[] extra)
    {
        var (exit, output, err) = CliRunner.Run([.. Tiny, .. extra]);
        Assert.True(exit == 0, err + output);
        return JsonNode.Parse(output.Trim().Split('\n')[^1])!.AsObject();
    }

    [Fact]
    public void Memory_savers_report_themselves_and_give_the_plain_losses()
    {
        var plain = Run();
        var saved = Run("--base-dtype", "bfloat16", "--checkpointing");
        Assert.Equal("float32", (string)plain["base_dtype"]!);
        Assert.Equal("bfloat16", (string)saved["base_dtype"]!);
        Assert.True((bool)saved["checkpointing"]!);
        Assert.True((long)saved["weight_bytes"]! < (long)plain["weight_bytes"]!, $"{saved["weight_bytes"]} bytes against {plain["weight_bytes"]}");
        var a = plain["losses"]!.AsArray().Select(x => (double)x!).ToArray();
        var b = saved["losses"]!.AsArray().Select(x => (double)x!).ToArray();
        Assert.Equal(2, a.Length);
        // bfloat16 rounding of a random model's weights moves the loss by far less than 1%
        Assert.All(a.Zip(b), p => Assert.True(Math.Abs(p.First - p.Second) < 0.01 * p.First, $"{p.First} vs {p.Second}"));
        var packed = Run("--packing");
        Assert.True((bool)packed["packing"]! && (double)packed["tokens_per_second"]! > 0, packed.ToJsonString());
    }

    [Theory]
    [InlineData("--preset", "llama-70b")]
    [InlineData("--preset", "smollm2-135m", "--layers", "3")]
    [InlineData("--full", "--base-dtype", "bfloat16")]
    [InlineData("--compare", "plain,fp8")]
    public void Bad_settings_are_refused_in_one_line(params string[] extra)
    {
        var (exit, _, err) = CliRunner.Run(["bench", "train", "--steps", "1", .. extra]);
        Assert.NotEqual(0, exit);
        Assert.DoesNotContain("   at ", err);
        Assert.Single(err.Trim().Split('\n'), l => l.Contains("--preset") || l.Contains("--base-dtype") || l.Contains("--compare"));
    }
}
