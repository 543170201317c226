using System.Text.Json.Nodes;
using FineTune.Kit.Models;
using FineTune.Kit.Serving;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Kit.Tests.Models;

/// <summary>
/// Qwen3, Phi-3, Gemma 3 (text) and Gemma 2: each config switch read as transformers reads it, and each switch's effect
/// checked against <see cref="ReferenceForward"/> on sequences longer than the sliding windows.
/// </summary>
public class FamilyTests
{
    private static readonly long[] Ids = [3, 17, 5, 22, 0, 9, 9, 14, 2, 8, 11, 4];

    private static CausalLM Sharp(ModelConfig config, int seed = 1) => TinyModels.Sharpened(TinyModels.Random(config, seed));

    // ---- Qwen3

    [Fact]
    public void Qwen3_has_per_head_q_and_k_norms_an_explicit_head_dim_and_no_qkv_bias()
    {
        var c = TinyModels.Qwen3();
        Assert.Equal(8, c.HeadDim);                        // hidden / heads would be 4
        Assert.True(c.QkNorm);
        Assert.False(c.QkvBias);
        using var model = TinyModels.Random(c);
        var shapes = model.Module.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Assert.Equal([8], shapes["model.layers.0.self_attn.q_norm.weight"]);
        Assert.Equal([8], shapes["model.layers.1.self_attn.k_norm.weight"]);
        Assert.Equal([32, 16], shapes["model.layers.0.self_attn.q_proj.weight"]);
        Assert.DoesNotContain(shapes.Keys, k => k.EndsWith("proj.bias"));
        // Qwen3Config's head_dim defaults to 128, not hidden / heads
        Assert.Equal(128, TinyModels.Qwen3(j => j.Remove("head_dim")).HeadDim);
        // the norms matter: the same weights with unit gains give other logits
        using var unit = TinyModels.Random(c);
        using (no_grad())
            foreach (var (name, p) in unit.Module.named_parameters().Where(p => p.name.Contains("_norm.weight") && p.name.Contains("self_attn")))
                p.fill_(1);
        Assert.True(ModelAssert.MaxDifference(model.Logits(Ids), unit.Logits(Ids)) > 1e-4);
        ModelAssert.MatchesReference(unit, Ids, absolute: 1e-5, what: "qwen3 unit q/k gains");
    }

    [Fact]
    public void Qwen3_windows_the_layers_from_max_window_layers_on_when_use_sliding_window_is_set()
    {
        var c = TinyModels.Qwen3(j => { j["use_sliding_window"] = true; j["sliding_window"] = 3; j["max_window_layers"] = 1; });
        Assert.Equal(new[] { false, true }, c.WindowedLayers!);
        using var model = Sharp(c);
        ModelAssert.MatchesReference(model, Ids, absolute: 1e-5, what: "qwen3 windowed");
        Assert.Null(TinyModels.Qwen3(j => j["sliding_window"] = 3).SlidingWindow);     // use_sliding_window false
    }

    // ---- Phi-3

    [Fact]
    public void Phi3_rotates_only_the_partial_rotary_fraction_of_each_head()
    {
        var half = TinyModels.Phi3();
        Assert.Equal(8, half.HeadDim);
        Assert.Equal(4, half.RotaryDim);
        Assert.Equal(2, RopeFrequencies.Compute(half).Length);
        using var partial = Sharp(half, seed: 2);
        using var whole = Sharp(TinyModels.Phi3(j => j["partial_rotary_factor"] = 1.0), seed: 2);
        CausalLMTests.AssertSameWeights(partial, whole);
        var a = ModelAssert.MatchesReference(partial, Ids, absolute: 1e-5, what: "phi3 partial rotary");
        var b = ModelAssert.MatchesReference(whole, Ids, absolute: 1e-5, what: "phi3 full rotary");
        Assert.True(ModelAssert.MaxDifference(a, b) > 1e-3, "partial and full rotation gave the same logits");
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("0")]
    [InlineData("0.125")]      // one channel of eight: an odd number cannot rotate in pairs
    [InlineData("\"half\"")]
    public void A_bad_partial_rotary_factor_is_named(string value)
    {
        var e = Assert.Throws<ModelFormatException>(() => TinyModels.Phi3(j => j["partial_rotary_factor"] = JsonNode.Parse(value)));
        Assert.Contains("partial_rotary_factor", e.Message);
    }

    [Fact]
    public void Phi3_fuses_qkv_and_gate_up_in_the_checkpoint_layout()
    {
        using var model = TinyModels.Random(TinyModels.Phi3());
        var shapes = model.Module.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Assert.Equal([(4 + 2 * 2) * 8, 32], shapes["model.layers.0.self_attn.qkv_proj.weight"]);
        Assert.Equal([2 * 24, 32], shapes["model.layers.0.mlp.gate_up_proj.weight"]);
        Assert.Equal([32, 24], shapes["model.layers.0.mlp.down_proj.weight"]);
        Assert.DoesNotContain(shapes.Keys, k => k.Contains("q_proj") || k.Contains("gate_proj") || k.EndsWith("bias"));
    }

    [Fact]
    public void Phi3_windows_every_layer_when_sliding_window_is_set()
    {
        using var windowed = Sharp(TinyModels.Phi3(j => j["sliding_window"] = 3), seed: 3);
        using var full = Sharp(TinyModels.Phi3(), seed: 3);
        Assert.All(Enumerable.Range(0, 2), l => Assert.Equal(3, windowed.Config.LayerWindow(l)));
        var a = ModelAssert.MatchesReference(windowed, Ids, absolute: 1e-5, what: "phi3 window");
        var b = full.Logits(Ids);
        for (int t = 0; t < 3; t++) Assert.True(ModelAssert.MaxDifference(a[t], b[t]) < 1e-5, $"t={t}");
        for (int t = 3; t < Ids.Length; t++) Assert.True(ModelAssert.MaxDifference(a[t], b[t]) > 1e-4, $"t={t} equals full attention");
    }

    // Phi-3.5-mini's layout: longrope factors in rope_scaling, the pre-training context at the top level; the legacy
    // type names "su" and "yarn" mean longrope for phi3, as Phi3Config reads them
    private static ModelConfig Phi3LongRope(int originalContext, string type = "longrope") => TinyModels.Phi3(j =>
    {
        j["rope_theta"] = 100.0;
        j["original_max_position_embeddings"] = originalContext;
        j["rope_scaling"] = new JsonObject
        {
            ["type"] = type, ["short_factor"] = new JsonArray(1.5, 6.0), ["long_factor"] = new JsonArray(3.0, 40.0),
        };
    });

    [Theory]
    [InlineData(16)]   // 12 tokens fit the original context: short factors
    [InlineData(8)]    // they do not: long factors
    public void Phi3_longrope_matches_the_reference_with_either_factor_list(int originalContext)
    {
        using var model = Sharp(Phi3LongRope(originalContext), seed: 4);
        var actual = ModelAssert.MatchesReference(model, Ids, absolute: 1e-5, what: $"phi3 longrope, original {originalContext}");
        using var plain = Sharp(TinyModels.Phi3(j => j["rope_theta"] = 100.0), seed: 4);
        Assert.True(ModelAssert.MaxDifference(plain.Logits(Ids), actual) > 1e-3, "longrope left the logits unchanged");
        ModelAssert.CachedGenerationEqualsRecomputation(model, [new long[] { 1, 2, 3 }], newTokens: originalContext == 16 ? 10 : 3);
    }

    [Fact]
    public void Phi3_reads_the_legacy_su_and_yarn_names_as_longrope_and_gemma_refuses_longrope()
    {
        using var longrope = Sharp(Phi3LongRope(8), seed: 5);
        foreach (var legacy in new[] { "su", "yarn" })
        {
            using var model = Sharp(Phi3LongRope(8, legacy), seed: 5);
            Assert.Equal("longrope", model.Config.RopeScaling!.Type);
            Assert.Equal(0.0, ModelAssert.MaxDifference(longrope.Logits(Ids), model.Logits(Ids)));
        }
        var e = Assert.Throws<ModelFormatException>(() => TinyModels.Gemma3(j => j["rope_scaling"] = new JsonObject
        {
            ["rope_type"] = "longrope", ["short_factor"] = new JsonArray(1.0, 1.0), ["long_factor"] = new JsonArray(2.0, 3.0),
        }));
        Assert.Contains("\"longrope\" is not supported for gemma3_text", e.Message);
        // elsewhere "su" stays an unknown type, named
        var su = Assert.Throws<ModelFormatException>(() => TinyModels.Qwen3(j => j["rope_scaling"] = new JsonObject { ["type"] = "su" }));
        Assert.Contains("\"su\" is not supported", su.Message);
    }

    // ---- Gemma

    [Fact]
    public void Gemma_layer_types_come_from_layer_types_or_the_pattern()
    {
        Assert.Equal(new[] { true, false, true }, TinyModels.Gemma3().WindowedLayers!);
        // Gemma3TextConfig's default pattern 6: the first five layers slide
        Assert.Equal(new[] { true, true, true }, TinyModels.Gemma3(j => j.Remove("sliding_window_pattern")).WindowedLayers!);
        Assert.Equal(new[] { false, true, false }, TinyModels.Gemma3(j =>
            j["layer_types"] = new JsonArray("full_attention", "sliding_attention", "full_attention")).WindowedLayers!);
        // Gemma 2 alternates, sliding first
        Assert.Equal(new[] { true, false }, TinyModels.Gemma2().WindowedLayers!);
        var e = Assert.Throws<ModelFormatException>(() => TinyModels.Gemma3(j => j["layer_types"] = new JsonArray("full_attention")));
        Assert.Contains("layer_types", e.Message);
    }

    [Fact]
    public void Gemma_defaults_follow_the_transformers_classes()
    {
        var g2 = TinyModels.Gemma2(j => { j.Remove("attn_logit_softcapping"); j.Remove("final_logit_softcapping"); j.Remove("sliding_window"); j.Remove("head_dim"); j.Remove("query_pre_attn_scalar"); });
        Assert.Equal(50.0, g2.AttentionSoftcap);
        Assert.Equal(30.0, g2.FinalLogitSoftcap);
        Assert.Equal(4096, g2.SlidingWindow);
        Assert.Equal(256, g2.HeadDim);
        Assert.Equal(1 / 16.0, g2.AttentionScale);
        Assert.Null(g2.LocalRopeTheta);
        Assert.True(g2.TieWordEmbeddings);
        var g3 = TinyModels.Gemma3(j => { j.Remove("attn_logit_softcapping"); j.Remove("final_logit_softcapping"); j.Remove("rope_theta"); j.Remove("rope_local_base_freq"); });
        Assert.Null(g3.AttentionSoftcap);
        Assert.Null(g3.FinalLogitSoftcap);
        Assert.Equal(1_000_000, g3.RopeTheta);
        Assert.Equal(10_000, g3.LocalRopeTheta);
        Assert.True(g3.QkNorm);
        Assert.False(TinyModels.Gemma2().QkNorm);
        Assert.Equal(1 / Math.Sqrt(6), TinyModels.Gemma3().AttentionScale!.Value, 15);
        // null switches a default off
        Assert.Null(TinyModels.Gemma2(j => j["final_logit_softcapping"] = null).FinalLogitSoftcap);
        Assert.Null(TinyModels.Gemma2(j => j["sliding_window"] = null).SlidingWindow);
    }

    [Fact]
    public void Gemma3_reads_rope_parameters_keyed_by_layer_type()
    {
        var c = TinyModels.Gemma3(j =>
        {
            j.Remove("rope_theta"); j.Remove("rope_local_base_freq"); j.Remove("rope_scaling");
            j["rope_parameters"] = new JsonObject
            {
                ["full_attention"] = new JsonObject { ["rope_type"] = "linear", ["factor"] = 2.0, ["rope_theta"] = 500_000.0 },
                ["sliding_attention"] = new JsonObject { ["rope_type"] = "default", ["rope_theta"] = 20.0 },
            };
        });
        Assert.Equal(500_000, c.RopeTheta);
        Assert.Equal("linear", c.RopeScaling!.Type);
        Assert.Equal(20, c.LocalRopeTheta);
        using var model = Sharp(c, seed: 4);
        ModelAssert.MatchesReference(model, Ids, absolute: 1e-5, what: "gemma3 rope_parameters");
        var back = ModelConfig.FromJson(c.ToJson());
        Assert.Equal((c.RopeTheta, c.LocalRopeTheta, c.RopeScaling), (back.RopeTheta, back.LocalRopeTheta, back.RopeScaling));

        var e = Assert.Throws<ModelFormatException>(() => TinyModels.Gemma3(j => j["rope_parameters"] = new JsonObject
        {
            ["sliding_attention"] = new JsonObject { ["rope_type"] = "linear", ["factor"] = 2.0 },
        }));
        Assert.Contains("sliding_attention", e.Message);
    }

    [Fact]
    public void Gemma3_sliding_layers_rotate_with_the_local_base()
    {
        using var a = Sharp(TinyModels.Gemma3(j => j["rope_local_base_freq"] = 10.0), seed: 5);
        using var b = Sharp(TinyModels.Gemma3(), seed: 5);
        var la = ModelAssert.MatchesReference(a, Ids, absolute: 1e-5, what: "gemma3 local base 10");
        var lb = ModelAssert.MatchesReference(b, Ids, absolute: 1e-5, what: "gemma3 local base 1e4");
        Assert.True(ModelAssert.MaxDifference(la, lb) > 1e-3, "the local RoPE base did not change the logits");
    }

    [Theory]
    [InlineData("gemma3")]
    [InlineData("gemma2")]
    public void A_sequence_longer_than_the_window_is_banded_on_the_sliding_layers_only(string family)
    {
        var windowed = TinyModels.ByName(family);
        var open = family == "gemma3" ? TinyModels.Gemma3(j => j["sliding_window"] = null) : TinyModels.Gemma2(j => j["sliding_window"] = null);
        using var a = Sharp(windowed, seed: 6);
        using var b = Sharp(open, seed: 6);
        var la = ModelAssert.MatchesReference(a, Ids, absolute: 1e-5, what: family + " window 3");
        var lb = ModelAssert.MatchesReference(b, Ids, absolute: 1e-5, what: family + " no window");
        for (int t = 0; t < 3; t++) Assert.True(ModelAssert.MaxDifference(la[t], lb[t]) < 1e-5, $"t={t}");
        for (int t = 3; t < Ids.Length; t++) Assert.True(ModelAssert.MaxDifference(la[t], lb[t]) > 1e-4, $"t={t} equals full attention");
    }

    [Theory]
    [InlineData("gemma3", 1.0, null)]
    [InlineData("gemma3", null, 0.05)]
    [InlineData("gemma3", 1.0, 0.05)]
    [InlineData("gemma2", 1.0, 0.05)]
    public void Soft_capping_matches_the_reference_and_changes_the_logits(string family, double? attentionCap, double? finalCap)
    {
        void Caps(JsonObject j, double? a, double? f)
        {
            j["attn_logit_softcapping"] = a is null ? null : JsonValue.Create(a.Value);
            j["final_logit_softcapping"] = f is null ? null : JsonValue.Create(f.Value);
        }
        ModelConfig Config(double? a, double? f) => family == "gemma3" ? TinyModels.Gemma3(j => Caps(j, a, f)) : TinyModels.Gemma2(j => Caps(j, a, f));
        using var capped = Sharp(Config(attentionCap, finalCap), seed: 7);
        using var plain = Sharp(Config(null, null), seed: 7);
        Assert.Equal(attentionCap, capped.Config.AttentionSoftcap);
        Assert.Equal(finalCap, capped.Config.FinalLogitSoftcap);
        var a = ModelAssert.MatchesReference(capped, Ids, absolute: 1e-5, what: $"{family} caps {attentionCap}/{finalCap}");
        var b = ModelAssert.MatchesReference(plain, Ids, absolute: 1e-5, what: $"{family} no caps");
        Assert.True(ModelAssert.MaxDifference(a, b) > 1e-4, "soft-capping did not change the logits");
        if (finalCap is { } f) Assert.All(a, row => Assert.All(row, v => Assert.True(Math.Abs(v) <= f + 1e-6)));
        // the explicit path (attention weights requested) gives the same logits as the fused one
        using var _ = no_grad();
        using var ids = tensor(Ids).unsqueeze(0);
        using var withWeights = capped.Forward(ids, outputAttentions: true);
        using var fused = capped.Forward(ids);
        Assert.True(withWeights.Logits.allclose(fused.Logits, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void Gemma_scales_embeddings_by_sqrt_hidden_rounded_to_the_embedding_dtype()
    {
        // hidden 24: √24 = 4.89898…, which bfloat16 holds as 4.90625
        using var model = TinyModels.Random(TinyModels.Gemma3(j => j["hidden_size"] = 24));
        model.Module.to(ScalarType.BFloat16);
        using var _ = no_grad();
        using var ids = tensor(Ids);
        using var rows = model.Module.EmbeddingMatrix.index_select(0, ids).to_type(ScalarType.Float32);
        using var embedded = model.Module.EmbedTokens(ids).to_type(ScalarType.Float32);
        using var roundedScale = (rows * 4.90625f).to_type(ScalarType.BFloat16).to_type(ScalarType.Float32);
        using var exactScale = (rows * (float)Math.Sqrt(24)).to_type(ScalarType.BFloat16).to_type(ScalarType.Float32);
        Assert.True(embedded.equal(roundedScale).all().item<bool>(), "bf16 embeddings differ from rows · bf16(√24)");
        Assert.False(embedded.equal(exactScale).all().item<bool>(), "the test cannot tell the rounded scale from the exact one");
    }

    [Fact]
    public void Embedding_gemma_is_refused()
    {
        var e = Assert.Throws<ModelFormatException>(() => TinyModels.Gemma3(j => j["use_bidirectional_attention"] = true));
        Assert.Contains("use_bidirectional_attention", e.Message);
    }

    [Theory]
    [InlineData("gemma3")]
    [InlineData("gemma2")]
    [InlineData("qwen3")]
    [InlineData("phi3")]
    public void Configs_survive_a_save(string family)
    {
        var c = TinyModels.ByName(family);
        var back = ModelConfig.FromJson(c.ToJson());
        Assert.Equal(c with { Raw = back.Raw, WindowedLayers = back.WindowedLayers }, back);
        Assert.Equal(c.WindowedLayers ?? [], back.WindowedLayers ?? []);
        // a switch changed in code is written back
        if (c.Family == ModelFamily.Gemma)
        {
            var off = ModelConfig.FromJson((c with { AttentionSoftcap = null, FinalLogitSoftcap = null, SlidingWindow = null }).ToJson());
            Assert.Null(off.AttentionSoftcap);
            Assert.Null(off.FinalLogitSoftcap);
            Assert.Null(off.SlidingWindow);
        }
    }

    // ---- every new family: cache, padding, keys, gradients, GGUF

    public static IEnumerable<object[]> NewFamilies() => [["qwen3"], ["phi3"], ["gemma3"], ["gemma2"]];

    private static ModelConfig WithSwitches(string family) => family switch
    {
        // the variants with every switch on that changes what a cached step sees
        "phi3" => TinyModels.Phi3(j => j["sliding_window"] = 3),
        "qwen3" => TinyModels.Qwen3(j => { j["use_sliding_window"] = true; j["sliding_window"] = 3; j["max_window_layers"] = 1; }),
        "gemma3" => TinyModels.Gemma3(j => { j["attn_logit_softcapping"] = 1.0; j["final_logit_softcapping"] = 0.5; }),
        _ => TinyModels.ByName(family),
    };

    [Theory]
    [MemberData(nameof(NewFamilies))]
    public void Kv_cache_greedy_decoding_equals_recomputation(string family)
    {
        using var model = Sharp(WithSwitches(family), seed: 8);
        ModelAssert.CachedGenerationEqualsRecomputation(model, [new long[] { 1, 2 }, new long[] { 4, 5, 6, 7, 8 }], newTokens: 10);
    }

    [Theory]
    [MemberData(nameof(NewFamilies))]
    public void Cached_steps_equal_the_rows_of_one_full_forward(string family)
    {
        using var model = Sharp(WithSwitches(family), seed: 9);
        var full = ModelAssert.MatchesReference(model, Ids, absolute: 1e-5, what: family + " with switches");
        using var _ = no_grad();
        using var cache = new KvCache(model.Config.NumLayers);
        for (int t = 0; t < Ids.Length; t++)
        {
            using var step = model.Module.Forward(tensor(new[] { Ids[t] }).unsqueeze(0), cache: cache);
            var row = step.Logits[0, 0].data<float>().ToArray();
            Assert.True(ModelAssert.MaxDifference(full[t], row) < 1e-4, $"t={t}: {ModelAssert.MaxDifference(full[t], row)}");
        }
    }

    [Theory]
    [MemberData(nameof(NewFamilies))]
    public void A_left_padded_batch_equals_unbatched_rows(string family)
    {
        using var model = Sharp(WithSwitches(family), seed: 10);
        long[] a = [1, 2, 3, 4, 5, 6], b = [7, 8, 9, 10];
        var alone = new[] { model.Logits(a), model.Logits(b) };
        using var _ = no_grad();
        using var ids = tensor(new long[,] { { 1, 2, 3, 4, 5, 6 }, { 0, 0, 7, 8, 9, 10 } });
        using var mask = tensor(new long[,] { { 1, 1, 1, 1, 1, 1 }, { 0, 0, 1, 1, 1, 1 } });
        using var output = model.Forward(ids, mask);
        for (int t = 0; t < 6; t++) Assert.True(ModelAssert.MaxDifference(alone[0][t], output.Logits[0, t].data<float>().ToArray()) < 1e-4);
        for (int t = 0; t < 4; t++) Assert.True(ModelAssert.MaxDifference(alone[1][t], output.Logits[1, t + 2].data<float>().ToArray()) < 1e-4);
    }

    [Theory]
    [InlineData("qwen3", "model.layers.1.self_attn.k_norm.weight", "[8]")]
    [InlineData("phi3", "model.layers.0.self_attn.qkv_proj.weight", "[64, 32]")]
    [InlineData("phi3", "model.layers.1.mlp.gate_up_proj.weight", "[48, 32]")]
    [InlineData("gemma3", "model.layers.2.pre_feedforward_layernorm.weight", "[16]")]
    [InlineData("gemma3", "model.layers.0.self_attn.q_norm.weight", "[8]")]
    [InlineData("gemma2", "model.layers.1.post_feedforward_layernorm.weight", "[16]")]
    public void A_missing_tensor_is_named_with_its_expected_shape(string family, string key, string shape)
    {
        var dir = TempFolder.Fresh();
        using var model = TinyModels.Random(TinyModels.ByName(family));
        model.Save(dir);
        using (var loaded = CausalLM.Load(dir, new LoadOptions { Device = "cpu" }))
        {
            CausalLMTests.AssertSameWeights(model, loaded);
            Assert.Empty(loaded.UnexpectedKeys);
        }
        var tensors = model.Module.named_parameters().Where(np => np.name != key)
            .Select(np => new KeyValuePair<string, Tensor>(np.name, np.parameter)).ToList();
        Assert.Equal(model.Module.named_parameters().Count() - 1, tensors.Count);
        SafeTensorFile.Save(Path.Combine(dir, "model.safetensors"), tensors);
        var e = Assert.Throws<ModelFormatException>(() => CausalLM.Load(dir));
        Assert.Contains($"'{key}' is missing", e.Message);
        Assert.Contains(shape, e.Message);
    }

    [Fact]
    public void A_fused_tensor_of_the_wrong_shape_is_named_with_both_shapes()
    {
        var dir = TempFolder.Fresh();
        using var model = TinyModels.Random(TinyModels.Phi3());
        model.Save(dir);
        // a checkpoint whose config says 4 kv heads has a wider qkv_proj than this config's 2
        var tensors = model.Module.named_parameters().Select(np => new KeyValuePair<string, Tensor>(np.name,
            np.name == "model.layers.0.self_attn.qkv_proj.weight" ? zeros(96, 32) : np.parameter)).ToList();
        SafeTensorFile.Save(Path.Combine(dir, "model.safetensors"), tensors);
        var e = Assert.Throws<ModelFormatException>(() => CausalLM.Load(dir));
        Assert.Contains("'model.layers.0.self_attn.qkv_proj.weight'", e.Message);
        Assert.Contains("[96, 32]", e.Message);
        Assert.Contains("[64, 32]", e.Message);
    }

    [Theory]
    [InlineData("gemma3")]
    [InlineData("phi3")]
    [InlineData("qwen3")]
    public void Gradients_match_finite_differences_in_float64(string family)
    {
        using var model = TinyModels.Random(WithSwitches(family), seed: 11);
        model.Module.to(ScalarType.Float64);
        using var ids = tensor(new long[] { 3, 1, 4, 1, 5, 9 }).unsqueeze(0);
        using var targets = tensor(new long[] { 1, 4, 1, 5, 9, 2 });
        Tensor Loss()
        {
            using var o = model.Forward(ids);
            return nn.functional.cross_entropy(o.Logits[0], targets);
        }
        Loss().backward();
        var rng = new Random(1);
        foreach (var (name, p) in model.Module.named_parameters())
        {
            var flat = p.view(-1);
            int idx = rng.Next((int)flat.shape[0]);
            double analytic = p.grad!.view(-1)[idx].item<double>();
            double eps = 1e-6, orig = flat[idx].item<double>(), plus, minus;
            using (no_grad())
            {
                flat[idx] = orig + eps; plus = Loss().item<double>();
                flat[idx] = orig - eps; minus = Loss().item<double>();
                flat[idx] = orig;
            }
            double numeric = (plus - minus) / (2 * eps);
            Assert.True(Math.Abs(analytic - numeric) <= 1e-6 + 1e-4 * Math.Abs(numeric), $"{name}[{idx}]: analytic {analytic} vs numeric {numeric}");
        }
    }

    [Theory]
    [InlineData("qwen3", "qwen3")]
    [InlineData("phi3", "phi3")]
    [InlineData("gemma3", "gemma3")]
    [InlineData("gemma2", "gemma2")]
    public void Gguf_export_names_the_llama_cpp_architecture(string family, string architecture)
    {
        Assert.Equal(architecture, GgufExporter.Architecture(TinyModels.ByName(family)));
        // a model type without an export is refused by name
        var e = Assert.Throws<GgufExportException>(() => GgufExporter.Architecture(TinyModels.ByName(family) with { ModelType = "falcon" }));
        Assert.Contains("\"falcon\"", e.Message);
    }
}
