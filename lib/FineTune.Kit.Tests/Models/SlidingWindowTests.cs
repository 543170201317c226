using System.Text.Json.Nodes;
using FineTune.Kit.Models;
using static TorchSharp.torch;

namespace FineTune.Kit.Tests.Models;

public class SlidingWindowTests
{
    private const int Window = 3;
    private static readonly long[] Ids = [3, 17, 5, 22, 0, 9, 9, 14, 2, 8, 11, 4];

    private static ModelConfig Mistral(int? window) =>
        ModelConfig.Llama(vocab: 23, hidden: 16, layers: 2, heads: 4, kvHeads: 2, ffn: 24, maxPositions: 64, tied: false,
            modelType: "mistral", slidingWindow: window);

    [Fact]
    public void Logits_match_the_reference_with_a_banded_mask()
    {
        using var model = TinyModels.Random(Mistral(Window), seed: 31);
        Assert.Equal(Window, model.Config.SlidingWindow);
        ModelAssert.MatchesReference(model, Ids);
    }

    [Fact]
    public void Logits_equal_full_attention_inside_the_window_and_differ_beyond_it()
    {
        using var windowed = TinyModels.Random(Mistral(Window), seed: 32);
        using var full = TinyModels.Random(Mistral(null), seed: 32);
        CausalLMTests.AssertSameWeights(windowed, full);
        var a = windowed.Logits(Ids);
        var b = full.Logits(Ids);
        // position t sees t − window + 1 … t: the first `window` positions see everything either way
        for (int t = 0; t < Window; t++) Assert.True(ModelAssert.MaxDifference(a[t], b[t]) < 1e-5, $"t={t} differs: {ModelAssert.MaxDifference(a[t], b[t])}");
        for (int t = Window; t < Ids.Length; t++) Assert.True(ModelAssert.MaxDifference(a[t], b[t]) > 1e-3, $"t={t} is the same as full attention");
    }

    [Fact]
    public void Kv_cache_greedy_decoding_equals_recomputation()
    {
        using var model = TinyModels.Random(Mistral(Window), seed: 33);
        // left padding does not move the band: each prompt alone gives the same tokens
        ModelAssert.CachedGenerationEqualsRecomputation(model, [new long[] { 1, 2 }, new long[] { 4, 5, 6, 7, 8 }], newTokens: 12);
    }

    [Fact]
    public void Cached_steps_equal_the_rows_of_one_full_forward()
    {
        using var model = TinyModels.Random(Mistral(Window), seed: 34);
        var full = model.Logits(Ids);
        using var _ = no_grad();
        using var cache = new KvCache(model.Config.NumLayers);
        for (int t = 0; t < Ids.Length; t++)
        {
            using var step = model.Module.Forward(tensor(new[] { Ids[t] }).unsqueeze(0), cache: cache);
            var row = step.Logits[0, 0].data<float>().ToArray();
            Assert.True(ModelAssert.MaxDifference(full[t], row) < 1e-5, $"t={t}: {ModelAssert.MaxDifference(full[t], row)}");
        }
    }

    [Fact]
    public void A_left_padded_batch_equals_unbatched_rows()
    {
        using var model = TinyModels.Random(Mistral(Window), seed: 35);
        long[] a = [1, 2, 3, 4, 5, 6], b = [7, 8, 9, 10];
        var alone = new[] { model.Logits(a), model.Logits(b) };
        using var _ = no_grad();
        using var ids = tensor(new long[,] { { 1, 2, 3, 4, 5, 6 }, { 0, 0, 7, 8, 9, 10 } });
        using var mask = tensor(new long[,] { { 1, 1, 1, 1, 1, 1 }, { 0, 0, 1, 1, 1, 1 } });
        using var output = model.Forward(ids, mask);
        for (int t = 0; t < 6; t++) Assert.True(ModelAssert.MaxDifference(alone[0][t], output.Logits[0, t].data<float>().ToArray()) < 1e-4);
        for (int t = 0; t < 4; t++) Assert.True(ModelAssert.MaxDifference(alone[1][t], output.Logits[1, t + 2].data<float>().ToArray()) < 1e-4);
    }

    private static JsonObject Qwen2Json(Action<JsonObject> edit)
    {
        var json = ModelConfig.Llama(vocab: 23, hidden: 16, layers: 2, heads: 4, kvHeads: 2, ffn: 24, maxPositions: 64,
            tied: false, modelType: "qwen2").ToJson();
        json["sliding_window"] = Window;
        edit(json);
        return json;
    }

    [Fact]
    public void Qwen2_windows_only_with_use_sliding_window_and_only_the_layers_from_max_window_layers_on()
    {
        Assert.Null(ModelConfig.FromJson(Qwen2Json(_ => { })).SlidingWindow);
        Assert.Null(ModelConfig.FromJson(Qwen2Json(j => j["use_sliding_window"] = false)).SlidingWindow);

        var config = ModelConfig.FromJson(Qwen2Json(j => { j["use_sliding_window"] = true; j["max_window_layers"] = 1; }));
        Assert.Equal(new[] { false, true }, config.WindowedLayers!);
        Assert.Null(config.LayerWindow(0));
        Assert.Equal(Window, config.LayerWindow(1));
        using var model = TinyModels.Random(config, seed: 36);
        ModelAssert.MatchesReference(model, Ids);

        // transformers' default max_window_layers is 28: a two-layer model has no windowed layer
        var byDefault = ModelConfig.FromJson(Qwen2Json(j => j["use_sliding_window"] = true));
        Assert.Null(byDefault.LayerWindow(1));
        // layer_types, when given, decides
        var typed = ModelConfig.FromJson(Qwen2Json(j =>
        {
            j["use_sliding_window"] = true;
            j["layer_types"] = new JsonArray("sliding_attention", "full_attention");
        }));
        Assert.Equal(Window, typed.LayerWindow(0));
        Assert.Null(typed.LayerWindow(1));
    }

    [Fact]
    public void Llama_has_no_sliding_window()
    {
        var json = TinyModels.Llama().ToJson();
        json["sliding_window"] = Window;
        Assert.Null(ModelConfig.FromJson(json).SlidingWindow);
    }

    [Fact]
    public void Save_and_load_keep_the_window()
    {
        var dir = TempFolder.Fresh();
        using var model = TinyModels.Random(Mistral(Window), seed: 37);
        model.Save(dir);
        using var loaded = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        Assert.Equal(Window, loaded.Config.SlidingWindow);
        Assert.Equal(model.Logits(Ids)[^1], loaded.Logits(Ids)[^1]);

        // no window is written as an explicit null, since transformers' Mistral would otherwise default to 4096
        var none = Mistral(null).ToJson();
        Assert.True(none.ContainsKey("sliding_window"));
        Assert.Null(none["sliding_window"]);
        Assert.Equal(5, ModelConfig.FromJson((Mistral(null) with { SlidingWindow = 5 }).ToJson()).SlidingWindow);

        var qwen = ModelConfig.FromJson(Qwen2Json(j => { j["use_sliding_window"] = true; j["max_window_layers"] = 1; }));
        var back = ModelConfig.FromJson(qwen.ToJson());
        Assert.Equal(qwen.WindowedLayers, back.WindowedLayers);
        Assert.Equal(Window, back.SlidingWindow);
        Assert.False(qwen.ToJson().ContainsKey("layer_types"));   // max_window_layers already says it
        var off = ModelConfig.FromJson((qwen with { SlidingWindow = null }).ToJson());
        Assert.Null(off.SlidingWindow);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-4")]
    [InlineData("2.5")]
    [InlineData("\"wide\"")]
    public void A_bad_window_is_named(string value)
    {
        var json = Mistral(null).ToJson();
        json["sliding_window"] = JsonNode.Parse(value);
        var e = Assert.Throws<ModelFormatException>(() => ModelConfig.FromJson(json, "m/config.json"));
        Assert.Contains("m/config.json", e.Message);
        Assert.Contains("sliding_window", e.Message);
    }
}
