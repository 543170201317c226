using System.Text.Json.Nodes;
using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Serving;
using FineTune.Kit.Tests.Cli;
using FineTune.Kit.Tests.Models;

namespace FineTune.Kit.Tests.Serving;

/// <summary>Inputs llama.cpp would not reproduce are refused with a named error, by the library and by `ftk export`.</summary>
public class GgufExportErrorTests
{
    [Fact]
    public void PreTokenizerLlamaCppDoesNotHaveIsRefused()
    {
        var dir = TinyExportModels.Folder("llama");
        var path = Path.Combine(dir, "tokenizer.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        // a digit-by-digit split: the kit can run it, llama.cpp's known pre-tokenizers would split differently
        json["pre_tokenizer"] = new JsonObject
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(
                new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = @"\p{N}| ?\p{L}+|\s+|[^\s\p{L}\p{N}]+" }, ["behavior"] = "Isolated", ["invert"] = false },
                new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
        };
        File.WriteAllText(path, json.ToJsonString());
        using var model = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        var e = Assert.Throws<GgufExportException>(() => GgufExporter.Export(model, Path.Combine(dir, "m.gguf")));
        Assert.Contains("tokenizer.json", e.Message);
        Assert.Contains("pre-tokenizer", e.Message);
        Assert.False(File.Exists(Path.Combine(dir, "m.gguf")));
    }

    [Fact]
    public void MissingTokenizerIsNamed()
    {
        var dir = TinyExportModels.Folder("qwen2");
        foreach (var f in new[] { "tokenizer.json", "vocab.json", "merges.txt" }) File.Delete(Path.Combine(dir, f));
        var (exit, _, err) = CliRunner.Run("export", "--model", dir, "--format", "gguf", "--type", "f16", "--out", Path.Combine(dir, "m.gguf"));
        Assert.Equal(1, exit);
        Assert.Contains("no tokenizer", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void VocabularyLargerThanTheEmbeddingIsRefused()
    {
        var dir = TempFolder.Fresh();
        using (var small = TinyModels.Random(ModelConfig.Gpt2(100, 64, 1, 4, 128))) small.Save(dir);
        TinyExportModels.Tokenizer().Save(dir);   // 323 tokens
        using var model = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        var e = Assert.Throws<GgufExportException>(() => GgufExporter.Build(model));
        Assert.Contains("100 rows", e.Message);
    }

    [Fact]
    public void SlidingWindowAndRopeScalingAreRefused()
    {
        using var windowed = TinyModels.Random(ModelConfig.Llama(64, 32, 1, 2, 2, 32, maxPositions: 128, modelType: "mistral", slidingWindow: 16));
        var dir = TempFolder.Fresh();
        windowed.Save(dir);
        TinyExportModels.Tokenizer().Save(dir);
        using var loaded = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        Assert.Contains("sliding-window", Assert.Throws<GgufExportException>(() => GgufExporter.Build(loaded)).Message);

        using var scaled = TinyModels.Random(ModelConfig.Llama(64, 32, 1, 2, 2, 32, ropeScaling: new RopeScaling { Type = "linear", Factor = 2 }));
        Assert.Contains("rope_scaling", Assert.Throws<GgufExportException>(() => GgufExporter.Build(scaled)).Message);
    }

    [Fact]
    public void UnmergedAdapterIsRefused()
    {
        using var model = CausalLM.Load(TinyExportModels.Folder("llama"), new LoadOptions { Device = "cpu" });
        model.AddLora(r: 2, alpha: 4);
        Assert.Contains("MergeAndUnload", Assert.Throws<GgufExportException>(() => GgufExporter.Build(model)).Message);
    }

    [Theory]
    [InlineData("--type", "q4_k", "--type 'q4_k'")]
    [InlineData("--format", "onnx", "--format 'onnx'")]
    public void BadOptionValuesAreOneLine(string option, string value, string expected)
    {
        var dir = TinyExportModels.Folder("llama");
        var args = new List<string> { "export", "--model", dir, "--out", Path.Combine(dir, "m.gguf") };
        args.AddRange(option == "--type" ? ["--format", "gguf", option, value] : [option, value, "--type", "f16"]);
        var (exit, _, err) = CliRunner.Run(args.ToArray());
        Assert.Equal(1, exit);
        Assert.Contains(expected, err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void ConfigLlamaCppWouldRunDifferentlyIsOneLine()
    {
        var dir = TinyExportModels.Folder("llama");
        var configPath = Path.Combine(dir, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["rope_scaling"] = new JsonObject { ["rope_type"] = "linear", ["factor"] = 2.0 };
        File.WriteAllText(configPath, config.ToJsonString());
        var (exit, _, err) = CliRunner.Run("export", "--model", dir, "--format", "gguf", "--type", "f16", "--out", Path.Combine(dir, "m.gguf"));
        Assert.Equal(1, exit);
        Assert.Contains("rope_scaling type \"linear\"", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void ExportMergesTheAdapterFirst()
    {
        var dir = TinyExportModels.Folder("llama");
        var adapterDir = TempFolder.Fresh();
        using (var model = CausalLM.Load(dir, new LoadOptions { Device = "cpu" }))
        {
            var adapter = model.AddLora(r: 2, alpha: 4, targets: ["q_proj", "v_proj", "down_proj"]);
            // a fresh adapter is a no-op (B = 0); give it weight so that merging it shows
            using (TorchSharp.torch.no_grad())
                foreach (var layer in adapter.Layers.Values) layer.lora_B.weight!.normal_(0, 0.3);
            adapter.Save(adapterDir);
        }
        var path = Path.Combine(dir, "merged.gguf");
        var (exit, stdout, err) = CliRunner.Run("export", "--model", dir, "--adapter", adapterDir, "--format", "gguf", "--type", "f32", "--out", path);
        Assert.True(exit == 0, err);
        Assert.Contains("merged.gguf", stdout);
        Assert.Contains("FROM ./merged.gguf", File.ReadAllText(Path.Combine(dir, "Modelfile")));

        using var merged = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        using var plain = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        merged.LoadAdapter(adapterDir).MergeAndUnload();
        var prompt = merged.RequireTokenizer().Encode("please refund my card").ToArray();
        using var cpp = LlamaCpp.Load(path);
        var cppLogits = cpp.Logits(prompt);
        var ids = prompt.Select(i => (long)i).ToList();
        Assert.True(GgufExportTests.MaxDifference(merged.Logits(ids), cppLogits) < 2e-3);
        Assert.True(GgufExportTests.MaxDifference(plain.Logits(ids), cppLogits) > 0.05, "the adapter changed nothing, so the test shows nothing");
    }
}
