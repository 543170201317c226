using System.Text.Json.Nodes;
using FineTune.Kit.Models;
using FineTune.Kit.Serving;
using FineTune.Kit.Tests.Serving;

namespace FineTune.Kit.Tests.Cli;

/// <summary>`ftk info FILE.gguf`: the metadata and tensor table of an exported file, as text and as JSON.</summary>
public class GgufInfoCommandTests
{
    private static string Exported(TempFolder tmp, GgufFileType type)
    {
        using var model = CausalLM.Load(TinyExportModels.Folder("llama"), new LoadOptions { Device = "cpu" });
        var path = tmp.File("tiny.gguf");
        GgufExporter.Export(model, path, type);
        return path;
    }

    [Fact]
    public void Json_lists_every_tensor_with_its_shape_type_and_size()
    {
        using var tmp = new TempFolder();
        var path = Exported(tmp, GgufFileType.Q8_0);
        var (exit, output, err) = CliRunner.Run("info", path, "--json");
        Assert.True(exit == 0, err);
        var info = JsonNode.Parse(output)!;
        Assert.Equal(3, (int)info["version"]!);
        Assert.Equal("llama", (string?)info["metadata"]!["general.architecture"]);
        Assert.Equal(2, (long)info["metadata"]!["llama.block_count"]!);
        Assert.Equal(64, (long)info["metadata"]!["llama.embedding_length"]!);
        var tokens = info["metadata"]!["tokenizer.ggml.tokens"]!;
        Assert.Equal("String", (string?)tokens["element_type"]);
        var vocab = TinyExportModels.Tokenizer().VocabSize + 5;     // the folder pads the embedding past the tokenizer
        Assert.Equal(vocab, (int)tokens["count"]!);
        Assert.Equal(8, tokens["first"]!.AsArray().Count);

        // the tiny llama by hand: the vocabulary above, width 64, 4 heads of 16 (2 for keys and values), MLP 96, untied head
        var expected = new Dictionary<string, long[]>
        {
            ["token_embd.weight"] = [vocab, 64], ["output_norm.weight"] = [64], ["output.weight"] = [vocab, 64],
        };
        for (var b = 0; b < 2; b++)
        {
            expected[$"blk.{b}.attn_norm.weight"] = [64];
            expected[$"blk.{b}.attn_q.weight"] = [64, 64];
            expected[$"blk.{b}.attn_k.weight"] = [32, 64];
            expected[$"blk.{b}.attn_v.weight"] = [32, 64];
            expected[$"blk.{b}.attn_output.weight"] = [64, 64];
            expected[$"blk.{b}.ffn_norm.weight"] = [64];
            expected[$"blk.{b}.ffn_gate.weight"] = [96, 64];
            expected[$"blk.{b}.ffn_up.weight"] = [96, 64];
            expected[$"blk.{b}.ffn_down.weight"] = [64, 96];
        }
        var tensors = info["tensors"]!.AsArray();
        Assert.Equal(expected.Keys.Order(), tensors.Select(t => (string)t!["name"]!).Order());
        long end = 0;
        foreach (var t in tensors)
        {
            var name = (string)t!["name"]!;
            var shape = t["shape"]!.AsArray().Select(d => (long)d!).ToArray();
            Assert.Equal(expected[name], shape);
            Assert.Equal(shape.Reverse(), t["ggml_dimensions"]!.AsArray().Select(d => (long)d!));
            var n = shape.Aggregate(1L, (a, d) => a * d);
            Assert.Equal(n, (long)t["elements"]!);
            // norms stay 32-bit; matrices are blocks of 32 values with a 2-byte scale
            var (type, bytes) = shape.Length == 1 ? ("F32", 4 * n) : ("Q8_0", n / 32 * 34);
            Assert.Equal(type, (string?)t["type"]);
            Assert.Equal(bytes, (long)t["bytes"]!);
            Assert.Equal(0, (long)t["offset"]! % 32);
            end = Math.Max(end, (long)t["offset"]! + bytes);
        }
        Assert.InRange(new FileInfo(path).Length - ((long)info["data_offset"]! + end), 0, 31);
        Assert.Equal(tensors.Sum(t => (long)t!["bytes"]!), (long)info["totals"]!["bytes"]!);
        Assert.Equal(5, (int)info["totals"]!["by_type"]!["F32"]!["tensors"]!);
    }

    [Fact]
    public void The_table_names_tensors_types_and_shapes()
    {
        using var tmp = new TempFolder();
        var path = Exported(tmp, GgufFileType.F16);
        var (exit, output, err) = CliRunner.Run("info", path);
        Assert.True(exit == 0, err);
        Assert.Contains("GGUF v3", output);
        Assert.Contains("general.architecture", output);
        Assert.Contains("blk.1.ffn_down.weight", output);
        Assert.Contains("64 × 96", output);
        Assert.Contains("F16", output);
    }

    [Fact]
    public void A_file_that_is_not_gguf_and_a_missing_target_are_one_line_errors()
    {
        using var tmp = new TempFolder();
        var bad = tmp.File("model.gguf", "this is not a gguf file at all, just text");
        var (exit, _, err) = CliRunner.Run("info", bad);
        Assert.NotEqual(0, exit);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains("model.gguf", err);
        Assert.Contains("not a GGUF file", err);

        (exit, _, err) = CliRunner.Run("info");
        Assert.NotEqual(0, exit);
        Assert.Contains("--model", err);
        Assert.Contains("FILE.gguf", err);
    }
}
