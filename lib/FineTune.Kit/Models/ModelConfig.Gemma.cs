using System.Text.Json.Nodes;

namespace FineTune.Kit.Models;

// Reading and writing the Gemma 2 / Gemma 3 (text) keys of config.json, with the defaults of transformers'
// Gemma2Config and Gemma3TextConfig for keys a file leaves out.
public sealed partial record ModelConfig
{
    private static ModelConfig GemmaFromJson(JsonObject json, string source, string type)
    {
        bool gemma3 = type == "gemma3_text";
        int Int(string key) => json[key] is { } n ? n.GetValue<int>()
            : throw new ModelFormatException($"{source}: missing \"{key}\", required for model_type \"{type}\".");
        int? OptInt(string key) => json[key] is JsonValue v && v.TryGetValue<int>(out var i) ? i : null;
        double Dbl(string key, double fallback) => JsonNumber.Read(json[key]) ?? fallback;
        bool Bool(string key, bool fallback) => json[key] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : fallback;
        double Positive(string key, double value) => value > 0 && double.IsFinite(value) ? value
            : throw new ModelFormatException($"{source}: \"{key}\" must be a positive number, got {json[key]?.ToJsonString()}.");
        // absent: the class default; null: off
        double? Cap(string key, double? fallback) =>
            !json.ContainsKey(key) ? fallback : json[key] is null ? null : Positive(key, JsonNumber.Read(json[key]) ?? double.NaN);

        if (Bool("use_bidirectional_attention", false))
            throw new ModelFormatException($"{source}: use_bidirectional_attention is true: this is an embedding model (EmbeddingGemma), not a causal language model; it is not supported.");
        int h = Int("hidden_size"), nh = Int("num_attention_heads"), layers = Int("num_hidden_layers");
        int kv = OptInt("num_key_value_heads") ?? nh;
        if (nh % kv != 0) throw new ModelFormatException($"{source}: num_attention_heads {nh} is not a multiple of num_key_value_heads {kv}.");
        int headDim = OptInt("head_dim") ?? 256;
        var act = (json["hidden_activation"] ?? json["hidden_act"])?.GetValue<string>() ?? "gelu_pytorch_tanh";
        if (act is not ("gelu_pytorch_tanh" or "gelu_new" or "gelu"))
            throw new ModelFormatException($"{source}: hidden_activation \"{act}\" is not supported for {type} (expected gelu_pytorch_tanh).");

        // Every layer is sliding or global: layer_types says which, or else the pattern (Gemma 3: every
        // sliding_window_pattern-th layer is global, default 6; Gemma 2: every second).
        int? window = !json.ContainsKey("sliding_window") ? 4096 : json["sliding_window"] is { } w ? ReadWindow(w, source) : null;
        bool[] windowed;
        if (json["layer_types"] is JsonArray types) windowed = LayerTypes(types, source, layers);
        else
        {
            int pattern = gemma3 ? OptInt("sliding_window_pattern") ?? 6 : 2;
            if (pattern < 1) throw new ModelFormatException($"{source}: \"sliding_window_pattern\" must be a positive integer, got {pattern}.");
            windowed = Enumerable.Range(0, layers).Select(i => (i + 1) % pattern != 0).ToArray();
        }

        // RoPE: the global layers use rope_theta and rope_scaling; Gemma 3's sliding layers plain RoPE with
        // rope_local_base_freq. Newer files say the same in rope_parameters keyed by layer type.
        double theta = Dbl("rope_theta", gemma3 ? 1_000_000 : 10_000);
        double? local = gemma3 ? Dbl("rope_local_base_freq", 10_000) : null;
        RopeScaling? scaling;
        if (json["rope_parameters"] is JsonObject byType && byType.Any(p => p.Value is JsonObject))
        {
            foreach (var (key, _) in byType)
                if (key is not ("full_attention" or "sliding_attention"))
                    throw new ModelFormatException($"{source}: \"rope_parameters\" has a key \"{key}\"; expected full_attention and sliding_attention.");
            scaling = null;
            if (byType["full_attention"] is JsonObject full)
            {
                theta = JsonNumber.Read(full["rope_theta"]) ?? theta;
                scaling = RopeScaling.Parse(full, source, "rope_parameters.full_attention");
            }
            if (byType["sliding_attention"] is JsonObject sliding)
            {
                var localScaling = RopeScaling.Parse(sliding, source, "rope_parameters.sliding_attention");
                if (localScaling.Type != "default")
                    throw new ModelFormatException($"{source}: \"rope_parameters.sliding_attention\" type \"{localScaling.Type}\" is not supported for the sliding layers (expected default).");
                local = JsonNumber.Read(sliding["rope_theta"]) ?? local ?? theta;
            }
        }
        else (theta, scaling) = ReadRope(json, source, theta);
        if (scaling is { Type: "longrope" })
            throw new ModelFormatException($"{source}: RoPE scaling type \"longrope\" is not supported for {type} (it is Phi-3's; Gemma checkpoints do not use it).");
        if (scaling is { Type: "dynamic" } && headDim <= 2)
            throw new ModelFormatException($"{source}: dynamic RoPE scaling needs head_dim > 2, got {headDim}.");

        bool attnBias = Bool("attention_bias", false);
        double scalar = Positive("query_pre_attn_scalar", Dbl("query_pre_attn_scalar", 256));
        IReadOnlyList<int> eos = json["eos_token_id"] switch
        {
            JsonArray a => a.Select(n => n!.GetValue<int>()).ToArray(),
            JsonValue v when v.TryGetValue<int>(out var i) => [i],
            _ => [],
        };
        return new ModelConfig
        {
            ModelType = type, VocabSize = Int("vocab_size"), HiddenSize = h, NumLayers = layers,
            NumHeads = nh, NumKvHeads = kv, HeadDim = headDim, IntermediateSize = Int("intermediate_size"),
            MaxPositions = OptInt("max_position_embeddings") ?? (gemma3 ? 131_072 : 8192), NormEps = Dbl("rms_norm_eps", 1e-6),
            RopeTheta = theta, RopeScaling = scaling, LocalRopeTheta = local, SlidingWindow = window, WindowedLayers = windowed,
            QkNorm = gemma3, AttentionScale = 1 / Math.Sqrt(scalar),
            AttentionSoftcap = Cap("attn_logit_softcapping", gemma3 ? null : 50.0),
            FinalLogitSoftcap = Cap("final_logit_softcapping", gemma3 ? null : 30.0),
            TieWordEmbeddings = Bool("tie_word_embeddings", true),
            QkvBias = attnBias, OutputBias = attnBias, HiddenAct = act, Dropout = Dbl("attention_dropout", 0),
            InitializerRange = Dbl("initializer_range", 0.02), BosTokenId = OptInt("bos_token_id"),
            EosTokenIds = eos, PadTokenId = OptInt("pad_token_id"),
            TorchDtype = json["torch_dtype"]?.GetValue<string>(), Raw = json,
        };
    }

    // Writes the window, the layer types, the two RoPE bases and the soft-caps back (null stated explicitly where the
    // class default would otherwise switch a feature on).
    private void WriteGemma(JsonObject json)
    {
        if (!json.ContainsKey("sliding_window") || JsonNumber.Read(json["sliding_window"]) != SlidingWindow)
            json["sliding_window"] = SlidingWindow;
        var windowed = WindowedLayers ?? Enumerable.Repeat(true, NumLayers).ToArray();
        json["layer_types"] = new JsonArray(windowed.Select(b => (JsonNode)(b ? "sliding_attention" : "full_attention")).ToArray());
        void Cap(string key, double? value)
        {
            if (value is { } v) JsonNumber.Set(json, key, v);
            else if (!json.ContainsKey(key) || json[key] is not null) json[key] = null;
        }
        Cap("attn_logit_softcapping", AttentionSoftcap);
        Cap("final_logit_softcapping", FinalLogitSoftcap);
        if (json["rope_parameters"] is JsonObject byType && byType.Any(p => p.Value is JsonObject))
        {
            if (byType["full_attention"] is not JsonObject full) byType["full_attention"] = full = new JsonObject();
            (RopeScaling ?? new RopeScaling { Type = "default" }).WriteTo(full);
            JsonNumber.Set(full, "rope_theta", RopeTheta);
            if (byType["sliding_attention"] is not JsonObject sliding) byType["sliding_attention"] = sliding = new JsonObject { ["rope_type"] = "default" };
            JsonNumber.Set(sliding, "rope_theta", LocalRopeTheta ?? RopeTheta);
            return;
        }
        WriteRope(json);
        if (LocalRopeTheta is { } local) JsonNumber.Set(json, "rope_local_base_freq", local);
    }
}
