using System.Text.Json.Nodes;
using FineTune.Kit.Models;

namespace FineTune.Kit.Tests.Models;

public class RopeScalingTests
{
    // head_dim 8: two heads over a width of 16, so there are four frequencies to tell apart
    private static ModelConfig Config(RopeScaling? scaling, double theta = 10000, int maxPositions = 64) =>
        ModelConfig.Llama(vocab: 23, hidden: 16, layers: 2, heads: 2, kvHeads: 1, ffn: 24, maxPositions: maxPositions,
            tied: false, ropeTheta: theta, ropeScaling: scaling);

    private static readonly RopeScaling Llama3 = new()
    {
        Type = "llama3", Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositions = 1000,
    };

    private static void AssertClose(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-12 * Math.Abs(expected[i]), $"[{i}]: {expected[i]} vs {actual[i]}");
    }

    [Fact]
    public void Plain_frequencies_are_the_base_to_minus_two_i_over_d()
    {
        // θ = 10⁴, d = 8: 10000^(−2i/8) = 10^(−i)
        AssertClose([1, 0.1, 0.01, 0.001], RopeFrequencies.Compute(Config(null)));
        AssertClose([1, 0.1, 0.01, 0.001], RopeFrequencies.Compute(Config(new RopeScaling { Type = "default" })));
    }

    [Fact]
    public void Linear_divides_every_frequency_by_the_factor()
    {
        var config = Config(new RopeScaling { Type = "linear", Factor = 2 });
        AssertClose([0.5, 0.05, 0.005, 0.0005], RopeFrequencies.Compute(config));
    }

    [Fact]
    public void Llama3_keeps_short_wavelengths_divides_long_ones_and_blends_in_between()
    {
        // wavelengths 2π/f: 2π, 20π, 200π ≈ 628, 2000π ≈ 6283. With original 1000, low 1 and high 4 the bands are
        // wavelength < 1000/4 = 250 (kept), > 1000/1 = 1000 (divided by 8), and 250…1000 (blended).
        // The blended one: smooth = (1000 / 200π − 1) / (4 − 1) = (5/π − 1) / 3, f = 0.01 · ((1 − smooth)/8 + smooth).
        double smooth = (5 / Math.PI - 1) / 3;
        AssertClose([1, 0.1, 0.01 * ((1 - smooth) / 8 + smooth), 0.001 / 8], RopeFrequencies.Compute(Config(Llama3)));
    }

    [Fact]
    public void Llama3_with_the_llama_3_1_settings_splits_128_dims_into_29_kept_6_blended_29_divided()
    {
        // head_dim 128, θ = 500000: wavelength 2π·θ^(2i/128) is below 8192/4 = 2048 for i ≤ 28 and above 8192 for i ≥ 35
        var config = ModelConfig.Llama(vocab: 10, hidden: 256, layers: 1, heads: 2, kvHeads: 2, ffn: 8,
            maxPositions: 131072, ropeTheta: 500000, ropeScaling: new RopeScaling
            {
                Type = "llama3", Factor = 32, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositions = 8192,
            });
        var plain = RopeFrequencies.Plain(128, 500000);
        var scaled = RopeFrequencies.Compute(config);
        for (int i = 0; i < 64; i++)
        {
            double ratio = scaled[i] / plain[i];
            if (i <= 28) Assert.Equal(1.0, ratio);
            else if (i >= 35) Assert.Equal(1.0 / 32, ratio, 15);
            else Assert.InRange(ratio, 1.0 / 32 + 1e-9, 1 - 1e-9);
        }
    }

    [Fact]
    public void Dynamic_keeps_the_base_up_to_max_positions_then_raises_it_with_the_length()
    {
        var config = Config(new RopeScaling { Type = "dynamic", Factor = 2 }, maxPositions: 64);
        AssertClose([1, 0.1, 0.01, 0.001], RopeFrequencies.Compute(config, 10));
        AssertClose([1, 0.1, 0.01, 0.001], RopeFrequencies.Compute(config, 64));
        // length 128: base = 10⁴ · (2·128/64 − 1)^(8/6) = 10⁴ · 3^(4/3); f_i = base^(−i/4)
        double b = 10000 * Math.Pow(3, 4.0 / 3);
        AssertClose([1, Math.Pow(b, -0.25), Math.Pow(b, -0.5), Math.Pow(b, -0.75)], RopeFrequencies.Compute(config, 128));
    }

    private static readonly long[] Ids = [3, 17, 5, 22, 0, 9, 9, 14, 2, 8, 11, 4, 19, 6, 1, 13, 7, 21, 10, 15];

    public static IEnumerable<object[]> Scalings() => [["linear"], ["llama3"], ["dynamic"], ["longrope-short"], ["longrope-long"]];

    // four rotated pairs; factors far from 1 so that each list changes the logits
    private static readonly double[] ShortStretch = [1, 1.5, 3, 7], LongStretch = [1, 4, 16, 50];

    private static ModelConfig ScaledConfig(string type) => type switch
    {
        // θ = 100 so that over 20 positions every band matters: wavelengths ≈ 6, 20, 63, 199 against original 64
        // (low-frequency edge 64, high-frequency edge 16): one kept, two blended, one divided
        "linear" => Config(new RopeScaling { Type = "linear", Factor = 4 }, theta: 100),
        "llama3" => Config(new RopeScaling { Type = "llama3", Factor = 4, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositions = 64 }, theta: 100),
        // 20 tokens against max_position_embeddings 12: the base is raised
        "dynamic" => Config(new RopeScaling { Type = "dynamic", Factor = 4 }, theta: 100, maxPositions: 12),
        // 20 tokens against an original context of 32 (short factors) or of 12 (long factors); factor 8 or 20, so the
        // attention factor √(1 + ln f / ln original) is √1.6 or 1.49
        "longrope-short" => Config(new RopeScaling { Type = "longrope", Factor = 8, ShortFactor = ShortStretch, LongFactor = LongStretch, OriginalMaxPositions = 32 },
            theta: 100, maxPositions: 256),
        "longrope-long" => Config(new RopeScaling { Type = "longrope", Factor = 20, ShortFactor = ShortStretch, LongFactor = LongStretch, OriginalMaxPositions = 12 },
            theta: 100, maxPositions: 256),
        _ => throw new ArgumentException(type),
    };

    // sharp attention, so that a wrong rotation shows in the logits (see TinyModels.Sharpened)
    private static CausalLM Sharp(ModelConfig config, int seed) => TinyModels.Sharpened(TinyModels.Random(config, seed));

    [Theory]
    [MemberData(nameof(Scalings))]
    public void Logits_with_scaled_rope_match_the_reference_and_differ_from_plain_rope(string type)
    {
        var config = ScaledConfig(type);
        using var model = Sharp(config, seed: 21);
        var actual = ModelAssert.MatchesReference(model, Ids, what: type);

        using var plain = Sharp(config with { RopeScaling = null }, seed: 21);
        var unscaled = plain.Logits(Ids);
        Assert.True(ModelAssert.MaxDifference(unscaled[0], actual[0]) < 1e-5);   // position 0 is never rotated
        double diff = ModelAssert.MaxDifference(unscaled, actual);
        Assert.True(diff > 1e-2, $"{type}: scaling changed the logits by only {diff}");
    }

    [Theory]
    [InlineData("linear")]
    [InlineData("llama3")]
    [InlineData("longrope-short")]
    public void Kv_cache_greedy_decoding_equals_recomputation_with_scaled_rope(string type)
    {
        using var model = Sharp(ScaledConfig(type), seed: 22);
        ModelAssert.CachedGenerationEqualsRecomputation(model, [new long[] { 1, 2, 3 }, new long[] { 4, 5, 6, 7, 8 }], newTokens: 16);
    }

    [Fact]
    public void Dynamic_scaling_counts_cached_positions_and_cached_keys_keep_their_rotation()
    {
        using var model = Sharp(ScaledConfig("dynamic"), seed: 23);
        var prompts = new List<IReadOnlyList<long>> { new long[] { 1, 2, 3 } };
        // at most 12 positions: never past max_position_embeddings, so the base never changes
        Assert.Equal(model.Generate(prompts, new GenerationOptions { MaxNewTokens = 9, UseCache = false }),
            model.Generate(prompts, new GenerationOptions { MaxNewTokens = 9 }));

        // past it, a cached step rotates its query and key for the length cached + new (20 here), while the 19 cached
        // keys keep the rotation of the pass that made them (as in transformers): the reference replays exactly that
        long[] ids = [.. Ids];
        float[] last;
        using (TorchSharp.torch.no_grad())
        using (var cache = new KvCache(model.Config.NumLayers))
        {
            model.Module.Forward(TorchSharp.torch.tensor(ids[..^1]).unsqueeze(0), cache: cache).Dispose();
            using var step = model.Module.Forward(TorchSharp.torch.tensor(ids[^1..]).unsqueeze(0), cache: cache);
            last = step.Logits[0, 0].data<float>().ToArray();
        }
        var replayed = ReferenceForward.Logits(model, ids, cachedPrefix: ids.Length - 1)[^1];
        for (int v = 0; v < last.Length; v++) Assert.True(Math.Abs(replayed[v] - last[v]) < 1e-4, $"v={v}: {replayed[v]} vs {last[v]}");
        // which is why recomputing the whole sequence gives (slightly) different logits
        var recomputed = model.Logits(ids)[^1];
        Assert.True(recomputed.Zip(last, (a, b) => Math.Abs(a - b)).Max() > 1e-6);
    }

    [Fact]
    public void Longrope_stretches_each_pair_by_its_factor_and_switches_lists_past_the_original_context()
    {
        var config = ScaledConfig("longrope-short");
        // θ = 100, d = 8: plain frequencies 100^(−i/4) = 1, 0.316…, 0.1, 0.0316…; each divided by its factor
        double[] plain = [1, Math.Pow(100, -0.25), 0.1, Math.Pow(100, -0.75)];
        AssertClose(plain.Select((f, i) => f / ShortStretch[i]).ToArray(), RopeFrequencies.Compute(config, sequenceLength: 32));
        AssertClose(plain.Select((f, i) => f / LongStretch[i]).ToArray(), RopeFrequencies.Compute(config, sequenceLength: 33));
        // attention factor √(1 + ln 8 / ln 32) = √1.6, unless the config gives one
        Assert.Equal(Math.Sqrt(1.6), RopeFrequencies.AttentionScaling(config), 12);
        Assert.Equal(0.5, RopeFrequencies.AttentionScaling(config with { RopeScaling = config.RopeScaling! with { AttentionFactor = 0.5 } }));
    }

    [Fact]
    public void A_Phi_3_5_style_config_takes_the_original_context_from_the_top_level()
    {
        // Phi-3.5-mini / Phi-4-mini keep original_max_position_embeddings beside max_position_embeddings, not in rope_scaling
        var json = Config(null, maxPositions: 131072).ToJson();
        json["model_type"] = "phi3";
        json["original_max_position_embeddings"] = 4096;
        json["rope_scaling"] = JsonNode.Parse($$"""{"type": "longrope", "short_factor": [{{string.Join(", ", ShortStretch)}}], "long_factor": [{{string.Join(", ", LongStretch)}}]}""");
        var c = ModelConfig.FromJson(json);
        Assert.Equal(4096, c.RopeScaling!.OriginalMaxPositions);
        Assert.Equal(32, c.RopeScaling.Factor);
        Assert.Equal(Math.Sqrt(1 + Math.Log(32) / Math.Log(4096)), RopeFrequencies.AttentionScaling(c), 12);
        // read back from what it writes
        var again = ModelConfig.FromJson(c.ToJson());
        Assert.Equal(c.RopeScaling.LongFactor, again.RopeScaling!.LongFactor);
        Assert.Equal(RopeFrequencies.AttentionScaling(c), RopeFrequencies.AttentionScaling(again));
    }

    [Theory]
    [InlineData("""{"type": "longrope", "short_factor": [1, 1, 1, 1]}""", "needs \"long_factor\", a list of numbers")]
    [InlineData("""{"type": "longrope", "short_factor": [1, 1, 1], "long_factor": [1, 1, 1]}""", "have 3 values; expected one per rotated pair, 4")]
    [InlineData("""{"type": "longrope", "short_factor": [1, 1, 1, 1], "long_factor": [1, 1, 1]}""", "short_factor has 4 values and long_factor 3")]
    [InlineData("""{"type": "longrope", "short_factor": [1, 0, 1, 1], "long_factor": [1, 1, 1, 1]}""", "short_factor[1] must be a positive number, got 0")]
    public void Bad_longrope_settings_are_refused_naming_the_key(string scaling, string message)
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelConfig.FromJson(LlamaJson(JsonNode.Parse(scaling))));
        Assert.Contains(message, e.Message);
    }

    private static JsonObject LlamaJson(JsonNode? ropeScaling)
    {
        var json = Config(null).ToJson();
        json["rope_scaling"] = ropeScaling;
        return json;
    }

    [Fact]
    public void Llama_3_1_config_is_read_with_either_type_key()
    {
        const string scaling = """{"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}""";
        var c = ModelConfig.FromJson(LlamaJson(JsonNode.Parse(scaling)));
        Assert.Equal(new RopeScaling { Type = "llama3", Factor = 32, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositions = 8192 }, c.RopeScaling);
        var legacy = ModelConfig.FromJson(LlamaJson(JsonNode.Parse("""{"type": "linear", "factor": 2.0}""")));
        Assert.Equal(new RopeScaling { Type = "linear", Factor = 2 }, legacy.RopeScaling);
        Assert.Null(ModelConfig.FromJson(LlamaJson(null)).RopeScaling);
    }

    [Fact]
    public void Rope_parameters_of_newer_configs_give_theta_and_scaling()
    {
        var json = Config(null).ToJson();
        json.Remove("rope_theta");
        json["rope_parameters"] = JsonNode.Parse("""{"rope_type": "linear", "factor": 4, "rope_theta": 500000.0}""");
        var c = ModelConfig.FromJson(json);
        Assert.Equal(500000, c.RopeTheta);
        Assert.Equal(new RopeScaling { Type = "linear", Factor = 4 }, c.RopeScaling);
        var saved = (c with { RopeTheta = 20000 }).ToJson();
        Assert.Equal(20000, saved["rope_parameters"]!["rope_theta"]!.GetValue<double>());
        Assert.False(saved.ContainsKey("rope_scaling"));
    }

    [Fact]
    public void Save_and_load_keep_rope_scaling_and_its_written_form()
    {
        var dir = TempFolder.Fresh();
        using var model = TinyModels.Random(ScaledConfig("llama3"), seed: 24);
        model.Save(dir);
        using var loaded = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        Assert.Equal(model.Config.RopeScaling, loaded.Config.RopeScaling);
        Assert.Equal(model.Logits(Ids)[^1], loaded.Logits(Ids)[^1]);

        // a hand-written config keeps its legacy key and its numbers as written
        var path = Path.Combine(dir, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json["rope_scaling"] = JsonNode.Parse("""{"type": "linear", "factor": 2.0, "note": "kept"}""");
        File.WriteAllText(path, json.ToJsonString());
        var config = ModelConfig.Load(dir);
        var again = config.ToJson();
        Assert.Equal("""{"type":"linear","factor":2.0,"note":"kept"}""", again["rope_scaling"]!.ToJsonString());
        // a changed scaling is written in place of the old one
        var changed = (config with { RopeScaling = new RopeScaling { Type = "dynamic", Factor = 3 } }).ToJson();
        Assert.Equal(new RopeScaling { Type = "dynamic", Factor = 3 }, ModelConfig.FromJson(changed).RopeScaling);
        Assert.Null((config with { RopeScaling = null }).ToJson()["rope_scaling"]);
    }

    [Theory]
    [InlineData("yarn")]
    [InlineData("su")]
    [InlineData("ntk")]
    public void Unsupported_types_are_refused_naming_the_file_the_type_and_the_supported_ones(string type)
    {
        var dir = TempFolder.Fresh();
        var json = LlamaJson(new JsonObject { ["rope_type"] = type, ["factor"] = 4.0 });
        File.WriteAllText(Path.Combine(dir, "config.json"), json.ToJsonString());
        var e = Assert.Throws<ModelFormatException>(() => ModelConfig.Load(dir));
        Assert.Contains(Path.Combine(dir, "config.json"), e.Message);
        Assert.Contains($"\"{type}\"", e.Message);
        Assert.Contains("default, linear, dynamic, llama3, longrope", e.Message);
    }

    [Theory]
    [InlineData("""{"type": "linear"}""", "needs a numeric \"factor\"")]
    [InlineData("""{"rope_type": "dynamic", "factor": 0}""", "factor must be a positive number, got 0")]
    [InlineData("""{"rope_type": "linear", "factor": -2.0}""", "factor must be a positive number, got -2")]
    [InlineData("""{"rope_type": "llama3", "factor": 8.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}""", "needs a numeric \"low_freq_factor\"")]
    [InlineData("""{"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0}""", "needs \"original_max_position_embeddings\"")]
    [InlineData("""{"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 4.0, "high_freq_factor": 1.0, "original_max_position_embeddings": 8192}""", "must be greater than low_freq_factor")]
    [InlineData("""{"factor": 2.0}""", "has no \"rope_type\"")]
    public void Missing_or_bad_parameters_are_named(string scaling, string expected)
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelConfig.FromJson(LlamaJson(JsonNode.Parse(scaling)), "some/config.json"));
        Assert.Contains(expected, e.Message);
        Assert.Contains("some/config.json", e.Message);
        Assert.Contains("rope_scaling", e.Message);
    }
}
