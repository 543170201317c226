using System.Text.Json.Nodes;
using FineTune.Kit.Models;
using FineTune.Kit.Serving;
using FineTune.Kit.Tests.Models;
using FineTune.Kit.Tests.Text;

namespace FineTune.Kit.Tests.Serving;

/// <summary>
/// Phi-3 exported to GGUF keeps its fused projections and partial rotary embedding and runs in llama.cpp as in the kit
/// (the logits and greedy comparisons of every type are in <see cref="GgufExportTests"/>); the configs llama.cpp would
/// run differently are refused by name.
/// </summary>
public class GgufPhi3ExportTests
{
    [Fact]
    public void TheFileStatesTheLayoutLlamaCppReads()
    {
        var dir = TinyExportModels.Folder("phi3");
        using var model = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        var path = Path.Combine(dir, "model.gguf");
        GgufExporter.Export(model, path, GgufFileType.F32);
        var file = GgufFile.Read(path);
        Assert.Equal("phi3", file.Metadata["general.architecture"].AsString());
        Assert.Equal(8u, (uint)file.Metadata["phi3.rope.dimension_count"].Value);   // 16 · 0.5
        Assert.Equal(128u, (uint)file.Metadata["phi3.context_length"].Value);
        Assert.False(file.Metadata.ContainsKey("phi3.attention.sliding_window"));
        Assert.DoesNotContain(file.Tensors, t => t.Name.Contains("attn_q.") || t.Name.Contains("ffn_gate"));
        // the fused projections as they are: [q | k | v] and [gate | up] along the output rows
        var state = model.Module.state_dict();
        foreach (var (hf, gguf) in new[]
                 {
                     ("model.layers.1.self_attn.qkv_proj.weight", "blk.1.attn_qkv.weight"),
                     ("model.layers.1.mlp.gate_up_proj.weight", "blk.1.ffn_up.weight"),
                     ("model.layers.1.mlp.down_proj.weight", "blk.1.ffn_down.weight"),
                     ("model.layers.1.self_attn.o_proj.weight", "blk.1.attn_output.weight"),
                     ("model.layers.1.input_layernorm.weight", "blk.1.attn_norm.weight"),
                     ("model.layers.1.post_attention_layernorm.weight", "blk.1.ffn_norm.weight"),
                     ("lm_head.weight", "output.weight"),
                 })
            Assert.Equal(state[hf].contiguous().data<float>().ToArray(), file.ReadTensor(gguf));
    }

    /// <summary>
    /// llama.cpp reads Phi-3's window but attends to every earlier token: the file states the window as its context
    /// length, and within it llama.cpp gives the kit's logits and continuation.
    /// </summary>
    [Fact]
    public void AWindowShorterThanTheContextBecomesTheContextLength()
    {
        var dir = TinyExportModels.Folder("phi3-window");
        using var model = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        Assert.Equal(48, model.Config.SlidingWindow);
        var path = Path.Combine(dir, "model.gguf");
        GgufExporter.Export(model, path, GgufFileType.F32);
        var file = GgufFile.Read(path);
        Assert.Equal(48u, (uint)file.Metadata["phi3.context_length"].Value);
        Assert.Equal(48u, (uint)file.Metadata["phi3.attention.sliding_window"].Value);

        var prompt = model.RequireTokenizer().Encode("please refund the double charge on my card").ToArray();
        var ids = prompt.Select(i => (long)i).ToList();
        var kitGreedy = model.Generate([ids], new GenerationOptions { MaxNewTokens = 16, StopTokens = [] })[0].Select(i => (int)i).ToArray();
        Assert.True(prompt.Length + kitGreedy.Length <= 48, "the comparison must stay within the window");
        using var cpp = LlamaCpp.Load(path);
        cpp.AssertRunsLike(model.Logits(ids), prompt, 2e-3, "phi3 within its window", kitGreedy);
    }

    /// <summary>
    /// Under a name containing "phi3" or "phi-3" llama.cpp applies a tokenizer rule of its own, and fails to load a
    /// vocabulary without the tokens the rule names (this ChatML one has no &lt;/s&gt;): such a name is refused.
    /// </summary>
    [Fact]
    public void ANameThatTriggersLlamaCppsPhi3TokenizerRuleIsRefusedForOtherVocabularies()
    {
        var dir = TinyExportModels.Folder("phi3");
        using var model = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        var e = Assert.Throws<GgufExportException>(() => GgufExporter.Build(model, GgufFileType.F32, "My-Phi-3-support"));
        Assert.Contains("\"My-Phi-3-support\"", e.Message);
        Assert.Contains("'</s>'", e.Message);
        Assert.Contains("--name", e.Message);

        // the same file under such a name, written past the check
        var writer = GgufExporter.Build(model, GgufFileType.F32, "support-model");
        writer.Set("general.name", GgufValue.String("support-phi3"));
        var path = Path.Combine(dir, "renamed.gguf");
        writer.Save(path);
        Assert.ThrowsAny<Exception>(() => LlamaCpp.Load(path).Dispose());
    }

    /// <summary>
    /// Phi-3's tokenizer.json swallows the whitespace after its chat markers and &lt;/s&gt; (rstrip), which llama.cpp
    /// reproduces only in a file whose name says Phi-3: under such a name it splits text into the kit's ids, under
    /// another the flags are refused.
    /// </summary>
    [Fact]
    public void Phi3TokenizerWithItsStripFlagsTokenisesAlikeUnderAPhi3Name()
    {
        var json = SentencePieceJsonGgufTests.Exhaustive(SentencePieceJsonFixtures.Build("phi3"));
        // as in Phi-3's file: the chat markers and </s> rstrip, <unk> and <s> do not; no lstrip tokens
        json["added_tokens"] = new JsonArray(json["added_tokens"]!.AsArray()
            .Where(a => a!["lstrip"]!.GetValue<bool>() == false).Select(a => a!.DeepClone()).ToArray());
        foreach (var a in json["added_tokens"]!.AsArray())
            if (a!["content"]!.GetValue<string>() == "</s>") a["rstrip"] = true;
        var added = json["added_tokens"]!.AsArray();
        added.Add(new JsonObject
        {
            ["id"] = added.Max(a => a!["id"]!.GetValue<int>()) + 1, ["content"] = "<|endoftext|>", ["single_word"] = false,
            ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
        });
        int vocab = SentencePieceJsonGgufTests.VocabSize(json);
        var dir = TempFolder.Fresh();
        using (var random = TinyModels.Random(TinyModels.Phi3(j => { j["vocab_size"] = vocab; j["max_position_embeddings"] = 256; }) with { InitializerRange = 0.2 }))
            random.Save(dir);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.ToJsonString());
        using var model = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        var tok = model.RequireTokenizer();

        var refused = Assert.Throws<GgufExportException>(() => GgufExporter.Build(model, GgufFileType.F32, "support-model"));
        Assert.Contains("rstrip = true", refused.Message);

        var path = Path.Combine(dir, "m.gguf");
        GgufExporter.Export(model, path, GgufFileType.F32, "Tiny-Phi-3-support");
        using var cpp = LlamaCpp.Load(path);
        string[] texts =
        [
            .. GgufExportTests.TrickyStrings, "<|user|>\nSYS\nHI<|end|>\n<|assistant|>\n", "<|user|>   hello there<|end|>  \n\n x",
            "<s>hello</s>  there", "x</s>\ny", "<unk> a <s> b",
        ];
        cpp.AssertTokenizesLike(tok, texts);

        // a marker without rstrip is one llama.cpp would strip after under that name: refused, and llama.cpp does differ
        foreach (var a in json["added_tokens"]!.AsArray())
            if (a!["content"]!.GetValue<string>() == "<|end|>") a["rstrip"] = false;
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.ToJsonString());
        using (var unstripped = CausalLM.Load(dir, new LoadOptions { Device = "cpu" }))
            Assert.Contains("'<|end|>'", Assert.Throws<GgufExportException>(() => GgufExporter.Build(unstripped, GgufFileType.F32, "Tiny-Phi-3-support")).Message);

        // with no strip flags at all the file exports under another name; renamed, llama.cpp strips and splits differently
        foreach (var a in json["added_tokens"]!.AsArray()) a!["rstrip"] = false;
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.ToJsonString());
        using var plain = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        var writer = GgufExporter.Build(plain, GgufFileType.F32, "support-model");
        var named = Path.Combine(dir, "named.gguf");
        writer.Save(named);
        writer.Set("general.name", GgufValue.String("Tiny-Phi-3-support"));
        var renamed = Path.Combine(dir, "renamed.gguf");
        writer.Save(renamed);
        using var cppRenamed = LlamaCpp.Load(renamed);
        const string text = "<|user|>\nhi<|end|>\n x";
        using (var cppNamed = LlamaCpp.Load(named)) Assert.Equal(plain.RequireTokenizer().Encode(text).ToArray(), cppNamed.Tokenize(text));
        Assert.NotEqual(plain.RequireTokenizer().Encode(text).ToArray(), cppRenamed.Tokenize(text));
    }

    public static IEnumerable<object[]> Refused() =>
    [
        [(Action<JsonObject>)(j => j["rope_scaling"] = new JsonObject { ["rope_type"] = "linear", ["factor"] = 2.0 }), "rope_scaling type \"linear\""],
        [(Action<JsonObject>)(j => j["rope_scaling"] = new JsonObject { ["rope_type"] = "dynamic", ["factor"] = 2.0 }), "rope_scaling type \"dynamic\""],
        // 4 heads of 16 channels against a hidden size of 32
        [(Action<JsonObject>)(j => j["head_dim"] = 16), "head_dim 16 × 4 heads is not hidden_size 32"],
    ];

    [Theory]
    [MemberData(nameof(Refused))]
    public void ConfigsLlamaCppWouldRunDifferentlyAreRefused(Action<JsonObject> edit, string named)
    {
        using var model = TinyModels.Random(TinyModels.Phi3(edit));
        var e = Assert.Throws<GgufExportException>(() => GgufExporter.Build(model));
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public void TheShapesLlamaCppAcceptsPassTheChecks()
    {
        // the same tiny config with nothing changed gets as far as the tokenizer (it was not loaded from a folder)
        using var model = TinyModels.Random(TinyModels.Phi3(j => j["sliding_window"] = 3));
        Assert.Contains("not loaded from a folder", Assert.Throws<GgufExportException>(() => GgufExporter.Build(model)).Message);
    }
}
