using System.Text.Json.Nodes;
using FineTune.Kit.Models;
using FineTune.Kit.Serving;
using FineTune.Kit.Tests.Models;
using FineTune.Kit.Tests.Text;

namespace FineTune.Kit.Tests.Serving;

/// <summary>
/// Gemma 2 and Gemma 3 exported to GGUF run in llama.cpp as in the kit, also many tokens past the sliding window, and
/// the configs llama.cpp would run differently are refused by name.
/// </summary>
public class GgufGemmaExportTests
{
    private const string LongText =
        "the thermostat shows error E42 after the update; I can't reset it and my parcel never arrived, " +
        "the tracking page is empty, please refund the double charge on my card";

    [Theory]
    [InlineData("gemma3")]
    [InlineData("gemma3-untied")]
    [InlineData("gemma2")]
    public void LongPromptsPastTheWindowRunInLlamaCppAsInTheKit(string variant)
    {
        var dir = TinyExportModels.Folder(variant);
        using var model = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        var c = model.Config;
        // Gemma scales its input embeddings by √hidden: with a tied head, random rows of length ~1.6 then dominate the
        // residual stream and the model repeats its last token for ever. Rows of length 0.3 let the blocks decide.
        using (TorchSharp.torch.no_grad())
        {
            var e = model.Module.EmbeddingMatrix;
            e.div_(e.pow(2).sum(1, keepdim: true).sqrt()).mul_(0.3);
        }
        var prompt = model.RequireTokenizer().Encode(LongText).ToArray();
        Assert.True(prompt.Length > 4 * c.SlidingWindow!.Value, $"a prompt of {prompt.Length} tokens does not run far past a window of {c.SlidingWindow}");
        var ids = prompt.Select(i => (long)i).ToList();
        var kitLogits = model.Logits(ids);
        var kitGreedy = model.Generate([ids], new GenerationOptions { MaxNewTokens = 24, StopTokens = [] })[0].Select(i => (int)i).ToArray();
        Assert.True(kitGreedy.Distinct().Count() >= 4, $"{variant}: the continuation [{string.Join(",", kitGreedy)}] is too repetitive to compare");

        var path = Path.Combine(dir, "model.gguf");
        GgufExporter.Export(model, path, GgufFileType.F32);
        using var cpp = LlamaCpp.Load(path);
        // the continuation one token at a time through llama.cpp's sliding-window KV cache
        cpp.AssertRunsLike(kitLogits, prompt, 5e-3, variant, kitGreedy);
    }

    [Fact]
    public void TheFileStatesTheLayoutLlamaCppReads()
    {
        var dir = TinyExportModels.Folder("gemma3-untied");
        using var model = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        var path = Path.Combine(dir, "model.gguf");
        GgufExporter.Export(model, path, GgufFileType.F32);
        var file = GgufFile.Read(path);
        Assert.Equal("gemma3", file.Metadata["general.architecture"].AsString());
        Assert.Equal(5u, (uint)file.Metadata["gemma3.attention.sliding_window"].Value);
        Assert.Equal(3u, (uint)file.Metadata["gemma3.attention.sliding_window_pattern"].Value);
        Assert.Equal(20_000f, (float)file.Metadata["gemma3.rope.freq_base_swa"].Value);
        Assert.Equal(1_000_000f, (float)file.Metadata["gemma3.rope.freq_base"].Value);
        Assert.Equal(32u, (uint)file.Metadata["gemma3.attention.key_length"].Value);
        Assert.Contains(file.Tensors, t => t.Name == "output.weight");
        // llama.cpp multiplies by the stored gain; Gemma by 1 + weight
        var state = model.Module.state_dict();
        foreach (var (hf, gguf) in new[]
                 {
                     ("model.layers.1.input_layernorm.weight", "blk.1.attn_norm.weight"),
                     ("model.layers.1.post_attention_layernorm.weight", "blk.1.post_attention_norm.weight"),
                     ("model.layers.1.pre_feedforward_layernorm.weight", "blk.1.ffn_norm.weight"),
                     ("model.layers.1.post_feedforward_layernorm.weight", "blk.1.post_ffw_norm.weight"),
                     ("model.layers.1.self_attn.q_norm.weight", "blk.1.attn_q_norm.weight"),
                     ("model.layers.1.self_attn.k_norm.weight", "blk.1.attn_k_norm.weight"),
                     ("model.norm.weight", "output_norm.weight"),
                 })
        {
            var expected = state[hf].data<float>().Select(w => w + 1).ToArray();
            Assert.Equal(expected, file.ReadTensor(gguf));
        }

        var dir2 = TinyExportModels.Folder("gemma2");
        var gemma2 = Path.Combine(dir2, "model.gguf");
        using (var g2 = CausalLM.Load(dir2, new LoadOptions { Device = "cpu" })) GgufExporter.Export(g2, gemma2, GgufFileType.F32);
        var file2 = GgufFile.Read(gemma2);
        Assert.Equal(50f, (float)file2.Metadata["gemma2.attn_logit_softcapping"].Value);
        Assert.Equal(30f, (float)file2.Metadata["gemma2.final_logit_softcapping"].Value);
        Assert.DoesNotContain(file2.Tensors, t => t.Name == "output.weight");
    }

    /// <summary>Gemma's SentencePiece-style tokenizer.json in a gemma3 file: llama.cpp splits text into the kit's ids.</summary>
    [Fact]
    public void GemmaTokenizerTokenisesAlikeInAGemma3File()
    {
        var json = SentencePieceJsonGgufTests.Exhaustive(SentencePieceJsonFixtures.Build("gemma"));
        // llama.cpp matches added tokens in the raw text only (as in SentencePieceJsonGgufTests)
        json["added_tokens"] = new JsonArray(json["added_tokens"]!.AsArray()
            .Where(a => a!["normalized"]!.GetValue<bool>() == false).Select(a => a!.DeepClone()).ToArray());
        int vocab = SentencePieceJsonGgufTests.VocabSize(json);
        var dir = TempFolder.Fresh();
        var config = TinyModels.Gemma3(j =>
        {
            j["vocab_size"] = vocab; j["hidden_size"] = 64; j["head_dim"] = 32; j["query_pre_attn_scalar"] = 32;
            j["intermediate_size"] = 96; j["max_position_embeddings"] = 256;
        }) with { InitializerRange = 0.2 };
        using (var random = TinyModels.Random(config)) random.Save(dir);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.ToJsonString());
        using var model = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        var tok = model.RequireTokenizer();
        var path = Path.Combine(dir, "m.gguf");
        GgufExporter.Export(model, path, GgufFileType.F32);
        Assert.Equal("llama", GgufFile.Read(path).Metadata["tokenizer.ggml.model"].AsString());
        using var cpp = LlamaCpp.Load(path);
        cpp.AssertTokenizesLike(tok, GgufExportTests.TrickyStrings);
        var ids = tok.Encode("The parcel arrived late yesterday. Ticket 4821.").ToArray();
        cpp.AssertRunsLike(model.Logits(ids.Select(i => (long)i).ToList()), ids, 5e-3, "gemma3 with a sentencepiece tokenizer");
    }

    public static IEnumerable<object[]> Refused() =>
    [
        ["gemma3_text", (Action<JsonObject>)(j => j["query_pre_attn_scalar"] = 6), "query_pre_attn_scalar 6"],
        ["gemma3_text", (Action<JsonObject>)(j => j["final_logit_softcapping"] = 30.0), "final_logit_softcapping"],
        ["gemma3_text", (Action<JsonObject>)(j => j["attn_logit_softcapping"] = 50.0), "attn_logit_softcapping"],
        ["gemma3_text", (Action<JsonObject>)(j => j["hidden_activation"] = "gelu"), "hidden_activation \"gelu\""],
        ["gemma3_text", (Action<JsonObject>)(j => j["attention_bias"] = true), "attention_bias"],
        ["gemma3_text", (Action<JsonObject>)(j => j["rope_scaling"] = new JsonObject { ["rope_type"] = "linear", ["factor"] = 8.0 }), "rope_scaling type \"linear\""],
        ["gemma3_text", (Action<JsonObject>)(j => j["layer_types"] = new JsonArray("sliding_attention", "full_attention", "full_attention")), "layer 2 is global"],
        ["gemma3_text", (Action<JsonObject>)(j => j["layer_types"] = new JsonArray("full_attention", "sliding_attention", "full_attention")), "layer 0 is a global layer"],
        ["gemma3_text", (Action<JsonObject>)(j => j["layer_types"] = new JsonArray("sliding_attention", "sliding_attention", "sliding_attention")), "every layer is a sliding-window layer"],
        ["gemma2", (Action<JsonObject>)(j => j["final_logit_softcapping"] = null), "always soft-caps"],
        ["gemma2", (Action<JsonObject>)(j => j["tie_word_embeddings"] = false), "untied lm_head"],
        ["gemma2", (Action<JsonObject>)(j =>
        {
            j["num_hidden_layers"] = 3;
            j["layer_types"] = new JsonArray("sliding_attention", "sliding_attention", "full_attention");
        }), "every second layer"],
    ];

    [Theory]
    [MemberData(nameof(Refused))]
    public void ConfigsLlamaCppWouldRunDifferentlyAreRefused(string type, Action<JsonObject> edit, string named)
    {
        // shapes llama.cpp accepts (query_pre_attn_scalar = head_dim), then one setting it would run differently
        var config = type == "gemma2"
            ? TinyModels.Gemma2(j => edit(j))
            : TinyModels.Gemma3(j => { j["query_pre_attn_scalar"] = 8; edit(j); });
        using var model = TinyModels.Random(config);
        var e = Assert.Throws<GgufExportException>(() => GgufExporter.Build(model));
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public void TheShapesLlamaCppAcceptsPassTheChecks()
    {
        // the same tiny configs with nothing changed get as far as the tokenizer (they were not loaded from a folder)
        using var g3 = TinyModels.Random(TinyModels.Gemma3(j => j["query_pre_attn_scalar"] = 8));
        Assert.Contains("not loaded from a folder", Assert.Throws<GgufExportException>(() => GgufExporter.Build(g3)).Message);
        using var g2 = TinyModels.Random(TinyModels.Gemma2());
        Assert.Contains("not loaded from a folder", Assert.Throws<GgufExportException>(() => GgufExporter.Build(g2)).Message);
    }
}
