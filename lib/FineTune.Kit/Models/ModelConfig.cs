using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Io;

namespace FineTune.Kit.Models;

/// <summary>The architecture families the kit implements.</summary>
public enum ModelFamily
{
    /// <summary>GPT-2: learned positions, LayerNorm, Conv1D projections, gelu_new.</summary>
    Gpt2,
    /// <summary>
    /// Llama, Qwen2, Mistral, Qwen3 (per-head q/k RMSNorm) and Phi-3 (fused qkv and gate-up projections, partial
    /// rotary): RoPE, RMSNorm, SwiGLU, grouped-query attention.
    /// </summary>
    Llama,
    /// <summary>
    /// Gemma 2 and Gemma 3 (text): embeddings scaled by √hidden, RMSNorm with (1 + weight), GeGLU, four norms per
    /// block, sliding-window layers interleaved with global ones, optional logit soft-capping.
    /// </summary>
    Gemma,
}

/// <summary>
/// A model's architecture as read from a Hugging Face `config.json`. The original JSON is kept so that saving writes
/// back every key the kit does not use.
/// </summary>
public sealed partial record ModelConfig
{
    /// <summary>`model_type` as written in config.json (gpt2, llama, qwen2, mistral, qwen3, phi3, gemma2, gemma3_text).</summary>
    public required string ModelType { get; init; }
    /// <summary>The family implementing <see cref="ModelType"/>.</summary>
    public ModelFamily Family => ModelType switch
    {
        "gpt2" => ModelFamily.Gpt2,
        "gemma2" or "gemma3_text" => ModelFamily.Gemma,
        _ => ModelFamily.Llama,
    };
    /// <summary>Vocabulary size (rows of the embedding).</summary>
    public required int VocabSize { get; init; }
    /// <summary>Width of the residual stream.</summary>
    public required int HiddenSize { get; init; }
    /// <summary>Number of transformer blocks.</summary>
    public required int NumLayers { get; init; }
    /// <summary>Number of query heads.</summary>
    public required int NumHeads { get; init; }
    /// <summary>Number of key/value heads (grouped-query attention); equals <see cref="NumHeads"/> for plain attention.</summary>
    public required int NumKvHeads { get; init; }
    /// <summary>Width of one attention head.</summary>
    public required int HeadDim { get; init; }
    /// <summary>Width of the MLP's hidden layer.</summary>
    public required int IntermediateSize { get; init; }
    /// <summary>Longest sequence the model supports.</summary>
    public required int MaxPositions { get; init; }
    /// <summary>Epsilon of LayerNorm / RMSNorm.</summary>
    public required double NormEps { get; init; }
    /// <summary>RoPE base frequency (Llama family).</summary>
    public double RopeTheta { get; init; } = 10000;
    /// <summary>
    /// RoPE scaling from `rope_scaling` (or `rope_parameters`); null when the config has none. See
    /// <see cref="RopeFrequencies.Compute"/> for what each type does.
    /// </summary>
    public RopeScaling? RopeScaling { get; init; }
    /// <summary>
    /// Sliding-window attention: a query sees at most this many keys, itself included (Mistral's `sliding_window`,
    /// Qwen2's when `use_sliding_window` is true). Null: full causal attention.
    /// </summary>
    public int? SlidingWindow { get; init; }
    /// <summary>
    /// Which layers use <see cref="SlidingWindow"/>, one entry per layer; null means every layer does. Qwen2 takes it
    /// from `layer_types`, or else windows the layers from `max_window_layers` on.
    /// </summary>
    public IReadOnlyList<bool>? WindowedLayers { get; init; }
    /// <summary>
    /// The fraction of each head that RoPE rotates (Phi-3's `partial_rotary_factor`); the rest of the head passes
    /// through unrotated.
    /// </summary>
    public double PartialRotaryFactor { get; init; } = 1;
    /// <summary>How many channels of a head RoPE rotates: int(head_dim · partial_rotary_factor), as transformers computes it.</summary>
    public int RotaryDim => (int)(HeadDim * PartialRotaryFactor);
    /// <summary>Whether queries and keys get a per-head RMSNorm before RoPE (`q_norm`, `k_norm`: Qwen3, Gemma 3).</summary>
    public bool QkNorm { get; init; }
    /// <summary>The factor on attention scores; null means 1/√head_dim. Gemma: `query_pre_attn_scalar`^-½.</summary>
    public double? AttentionScale { get; init; }
    /// <summary>Attention scores become cap · tanh(score / cap) before the mask and softmax (`attn_logit_softcapping`); null: off.</summary>
    public double? AttentionSoftcap { get; init; }
    /// <summary>Logits become cap · tanh(logit / cap) (`final_logit_softcapping`); null: off.</summary>
    public double? FinalLogitSoftcap { get; init; }
    /// <summary>
    /// RoPE base of the sliding-window layers (Gemma 3's `rope_local_base_freq`), which use plain RoPE; null: every
    /// layer uses <see cref="RopeTheta"/> and <see cref="RopeScaling"/>.
    /// </summary>
    public double? LocalRopeTheta { get; init; }
    /// <summary>Whether the output head shares the token embedding matrix.</summary>
    public required bool TieWordEmbeddings { get; init; }
    /// <summary>Whether q/k/v projections have a bias (Qwen2, or `attention_bias`).</summary>
    public bool QkvBias { get; init; }
    /// <summary>Whether the attention output projection has a bias (`attention_bias`).</summary>
    public bool OutputBias { get; init; }
    /// <summary>Whether MLP projections have a bias (`mlp_bias`).</summary>
    public bool MlpBias { get; init; }
    /// <summary>Activation name (`gelu_new`, `silu`, …).</summary>
    public required string HiddenAct { get; init; }
    /// <summary>Dropout on the residual branches during training.</summary>
    public double Dropout { get; init; }
    /// <summary>Standard deviation of the normal initialisation.</summary>
    public double InitializerRange { get; init; } = 0.02;
    /// <summary>Beginning-of-sequence token id, when the config names one.</summary>
    public int? BosTokenId { get; init; }
    /// <summary>End-of-sequence token ids (config may give one or a list).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    /// <summary>Padding token id, when the config names one.</summary>
    public int? PadTokenId { get; init; }
    /// <summary>The `torch_dtype` the checkpoint was saved in.</summary>
    public string? TorchDtype { get; init; }
    /// <summary>The JSON this config was read from (kept so unknown keys survive a save).</summary>
    public JsonObject Raw { get; init; } = new();

    private static readonly string[] Known = ["gpt2", "llama", "qwen2", "mistral", "qwen3", "phi3", "gemma2", "gemma3_text"];

    /// <summary>The attention window of a layer: <see cref="SlidingWindow"/> if that layer uses it, else null (full causal attention).</summary>
    public int? LayerWindow(int layer) =>
        SlidingWindow is { } w && (WindowedLayers is null || WindowedLayers[layer]) ? w : null;

    // Qwen2Config's default when config.json has no max_window_layers
    private const int Qwen2DefaultMaxWindowLayers = 28;

    /// <summary>Reads `config.json` from a model folder (or a path to the file itself).</summary>
    /// <exception cref="ModelFormatException">The file is missing, `model_type` is missing or unknown, or a required key is missing.</exception>
    public static ModelConfig Load(string path)
    {
        var file = Directory.Exists(path) ? Path.Combine(path, "config.json") : path;
        if (!File.Exists(file)) throw new ModelFormatException($"{file}: config.json not found; a Hugging Face model folder needs one.");
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(file)) as JsonObject ?? throw new ModelFormatException($"{file}: not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{file}: not valid JSON: {e.Message}", e);
        }
        return FromJson(json, file);
    }

    /// <summary>Builds a config from parsed config.json content; <paramref name="source"/> names it in errors.</summary>
    public static ModelConfig FromJson(JsonObject json, string source = "config.json")
    {
        var type = json["model_type"]?.GetValue<string>()
                   ?? throw new ModelFormatException($"{source}: missing \"model_type\" (expected one of {string.Join(", ", Known)}).");
        if (!Known.Contains(type))
            throw new ModelFormatException($"{source}: model_type \"{type}\" is not supported (supported: {string.Join(", ", Known)}).");

        int Int(string key) => json[key] is { } n ? n.GetValue<int>()
            : throw new ModelFormatException($"{source}: missing \"{key}\", required for model_type \"{type}\".");
        int? OptInt(string key) => json[key] is JsonValue v && v.TryGetValue<int>(out var i) ? i : null;
        double Dbl(string key, double fallback) => json[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : fallback;
        bool Bool(string key, bool fallback) => json[key] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : fallback;
        IReadOnlyList<int> Eos() => json["eos_token_id"] switch
        {
            JsonArray a => a.Select(n => n!.GetValue<int>()).ToArray(),
            JsonValue v when v.TryGetValue<int>(out var i) => [i],
            _ => [],
        };

        if (type == "gpt2")
        {
            int hidden = Int("n_embd"), heads = Int("n_head");
            if (hidden % heads != 0) throw new ModelFormatException($"{source}: n_embd {hidden} is not divisible by n_head {heads}.");
            var act = json["activation_function"]?.GetValue<string>() ?? "gelu_new";
            return new ModelConfig
            {
                ModelType = type, VocabSize = Int("vocab_size"), HiddenSize = hidden, NumLayers = Int("n_layer"),
                NumHeads = heads, NumKvHeads = heads, HeadDim = hidden / heads,
                IntermediateSize = OptInt("n_inner") ?? 4 * hidden, MaxPositions = Int("n_positions"),
                NormEps = Dbl("layer_norm_epsilon", 1e-5), TieWordEmbeddings = Bool("tie_word_embeddings", true),
                QkvBias = true, OutputBias = true, MlpBias = true, HiddenAct = act, Dropout = Dbl("resid_pdrop", 0),
                InitializerRange = Dbl("initializer_range", 0.02), BosTokenId = OptInt("bos_token_id"),
                EosTokenIds = Eos(), PadTokenId = OptInt("pad_token_id"),
                TorchDtype = json["torch_dtype"]?.GetValue<string>(), Raw = json,
            };
        }

        if (type is "gemma2" or "gemma3_text") return GemmaFromJson(json, source, type);

        int h = Int("hidden_size"), nh = Int("num_attention_heads");
        int kv = OptInt("num_key_value_heads") ?? nh;
        // Qwen3Config's head_dim defaults to 128 whatever the hidden size
        int headDim = OptInt("head_dim") ?? (type == "qwen3" ? 128
            : h % nh == 0 ? h / nh : throw new ModelFormatException($"{source}: hidden_size {h} is not divisible by num_attention_heads {nh} and no head_dim is given."));
        if (nh % kv != 0) throw new ModelFormatException($"{source}: num_attention_heads {nh} is not a multiple of num_key_value_heads {kv}.");
        int layers = Int("num_hidden_layers");
        var (ropeTheta, scaling) = ReadRope(type == "phi3" ? Phi3LegacyRope(json) : json, source, Dbl("rope_theta", 10000));
        int maxPositions = OptInt("max_position_embeddings") ?? 2048;
        scaling = scaling?.ForModel(OptInt("original_max_position_embeddings"), maxPositions);
        if (scaling is { Type: "dynamic" } && headDim <= 2)
            throw new ModelFormatException($"{source}: dynamic RoPE scaling needs head_dim > 2, got {headDim}.");
        var (window, windowed) = ReadSlidingWindow(json, source, type, layers);
        // Phi-3 has no bias switches: its fused projections never have biases
        bool phi3 = type == "phi3";
        bool attnBias = !phi3 && Bool("attention_bias", false);
        double partial = phi3 ? ReadPartialRotary(json, source, headDim) : 1;
        int rotatedPairs = (int)(headDim * partial) / 2;
        if (scaling is { Type: "longrope" } && scaling.ShortFactor!.Count != rotatedPairs)
            throw new ModelFormatException($"{source}: rope_scaling short_factor and long_factor have {scaling.ShortFactor.Count} values; " +
                                           $"expected one per rotated pair, {rotatedPairs} (head_dim {headDim} × partial_rotary_factor {partial} / 2).");
        return new ModelConfig
        {
            ModelType = type, VocabSize = Int("vocab_size"), HiddenSize = h, NumLayers = layers,
            NumHeads = nh, NumKvHeads = kv, HeadDim = headDim, IntermediateSize = Int("intermediate_size"),
            MaxPositions = maxPositions, NormEps = Dbl("rms_norm_eps", 1e-6),
            RopeTheta = ropeTheta, RopeScaling = scaling, SlidingWindow = window, WindowedLayers = windowed,
            PartialRotaryFactor = partial, QkNorm = type == "qwen3",
            TieWordEmbeddings = Bool("tie_word_embeddings", false),
            QkvBias = type == "qwen2" || attnBias, OutputBias = attnBias, MlpBias = !phi3 && Bool("mlp_bias", false),
            HiddenAct = json["hidden_act"]?.GetValue<string>() ?? "silu",
            Dropout = phi3 ? Dbl("resid_pdrop", 0) : Dbl("attention_dropout", 0),
            InitializerRange = Dbl("initializer_range", 0.02), BosTokenId = OptInt("bos_token_id"),
            EosTokenIds = Eos(), PadTokenId = OptInt("pad_token_id"),
            TorchDtype = json["torch_dtype"]?.GetValue<string>(), Raw = json,
        };
    }

    // Phi3Config reads the rope_scaling types "su" and "yarn" of early Phi-3 checkpoints as "longrope"
    private static JsonObject Phi3LegacyRope(JsonObject json)
    {
        if (json["rope_scaling"] is not JsonObject scaling || (scaling["type"] as JsonValue)?.GetValue<string>() is not ("su" or "yarn")) return json;
        var copy = json.DeepClone().AsObject();
        copy["rope_scaling"]!["type"] = "longrope";
        return copy;
    }

    // RoPE base and scaling: `rope_scaling`, or `rope_parameters` (newer transformers; it also carries rope_theta)
    private static (double Theta, RopeScaling? Scaling) ReadRope(JsonObject json, string source, double theta)
    {
        if (json["rope_parameters"] is JsonObject parameters)
        {
            if (parameters.Any(p => p.Value is JsonObject))
                throw new ModelFormatException($"{source}: \"rope_parameters\" per layer type is not supported.");
            if (JsonNumber.Read(parameters["rope_theta"]) is { } t) theta = t;
            return (theta, RopeScaling.Parse(parameters, source, "rope_parameters"));
        }
        return json["rope_scaling"] switch
        {
            null => (theta, null),
            JsonObject scaling => (theta, RopeScaling.Parse(scaling, source)),
            var other => throw new ModelFormatException($"{source}: \"rope_scaling\" must be an object or null, got {other.ToJsonString()}."),
        };
    }

    // Mistral and Phi-3 window every layer when sliding_window is set. Qwen2 and Qwen3 only when use_sliding_window is
    // true, and then only the layers layer_types marks "sliding_attention" (by default those from max_window_layers on).
    // Llama has no window.
    private static (int? Window, IReadOnlyList<bool>? Windowed) ReadSlidingWindow(JsonObject json, string source, string type, int layers)
    {
        if (type is not ("mistral" or "qwen2" or "qwen3" or "phi3")) return (null, null);
        if (type is "qwen2" or "qwen3" && !(json["use_sliding_window"] is JsonValue u && u.TryGetValue<bool>(out var use) && use)) return (null, null);
        // absent or null: no window (transformers' Mistral and Qwen classes would default an absent key to 4096, so the
        // configs the kit writes always state it; Phi3Config's default is None)
        if (json["sliding_window"] is not { } node) return (null, null);
        int w = ReadWindow(node, source);
        if (type is "mistral" or "phi3") return (w, null);
        return (w, Qwen2WindowedLayers(json, source, layers));
    }

    private static int ReadWindow(JsonNode node, string source)
    {
        double w = JsonNumber.Read(node) ?? double.NaN;
        if (!(w >= 1) || w != Math.Floor(w) || w > int.MaxValue)
            throw new ModelFormatException($"{source}: \"sliding_window\" must be a positive integer or null, got {node.ToJsonString()}.");
        return (int)w;
    }

    // Phi-3's partial_rotary_factor: RoPE rotates int(head_dim · factor) channels of each head, which must be a positive even number
    private static double ReadPartialRotary(JsonObject json, string source, int headDim)
    {
        if (json["partial_rotary_factor"] is not { } node) return 1;
        double f = JsonNumber.Read(node) ?? double.NaN;
        int dim = double.IsFinite(f) ? (int)(headDim * f) : 0;
        if (!(f > 0 && f <= 1) || dim < 2 || dim % 2 != 0)
            throw new ModelFormatException($"{source}: \"partial_rotary_factor\" must be in (0, 1] and rotate an even number of the {headDim} channels of a head, got {node.ToJsonString()} ({dim} channels).");
        return f;
    }

    private static bool[] LayerTypes(JsonArray types, string source, int layers)
    {
        if (types.Count != layers)
            throw new ModelFormatException($"{source}: \"layer_types\" has {types.Count} entries for {layers} layers.");
        return types.Select((t, i) => (t is JsonValue v && v.TryGetValue<string>(out var name) ? name : t?.ToJsonString()) switch
        {
            "sliding_attention" => true,
            "full_attention" => false,
            var other => throw new ModelFormatException($"{source}: layer_types[{i}] \"{other}\" is not supported (expected full_attention or sliding_attention)."),
        }).ToArray();
    }

    private static bool[] Qwen2WindowedLayers(JsonObject json, string source, int layers)
    {
        if (json["layer_types"] is JsonArray types) return LayerTypes(types, source, layers);
        int from = json["max_window_layers"] is JsonValue m && m.TryGetValue<int>(out var n) ? n : Qwen2DefaultMaxWindowLayers;
        return Enumerable.Range(0, layers).Select(i => i >= from).ToArray();
    }

    /// <summary>
    /// A Llama-family config from sizes, for pre-training from scratch and tests. A sliding window applies to Mistral
    /// and Qwen2 (every layer); Llama has none.
    /// </summary>
    public static ModelConfig Llama(int vocab, int hidden, int layers, int heads, int kvHeads, int ffn,
        int maxPositions = 512, bool tied = true, string modelType = "llama", double ropeTheta = 10000,
        RopeScaling? ropeScaling = null, int? slidingWindow = null)
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(modelType == "qwen2" ? "Qwen2ForCausalLM" : modelType == "mistral" ? "MistralForCausalLM" : "LlamaForCausalLM"),
            ["model_type"] = modelType, ["vocab_size"] = vocab, ["hidden_size"] = hidden,
            ["num_hidden_layers"] = layers, ["num_attention_heads"] = heads, ["num_key_value_heads"] = kvHeads,
            ["intermediate_size"] = ffn, ["max_position_embeddings"] = maxPositions, ["rms_norm_eps"] = 1e-6,
            ["rope_theta"] = ropeTheta, ["tie_word_embeddings"] = tied, ["hidden_act"] = "silu",
            ["initializer_range"] = 0.02, ["torch_dtype"] = "float32",
        };
        if (ropeScaling is not null) json["rope_scaling"] = ropeScaling.ToJson();
        if (slidingWindow is not null && modelType is not ("mistral" or "qwen2"))
            throw new ArgumentException($"model_type \"{modelType}\" has no sliding window.", nameof(slidingWindow));
        // written even when null: transformers' Mistral defaults an absent sliding_window to 4096
        if (modelType == "mistral") json["sliding_window"] = slidingWindow;
        if (modelType == "qwen2" && slidingWindow is { } w)
        {
            json["use_sliding_window"] = true;
            json["sliding_window"] = w;
            json["max_window_layers"] = 0;
        }
        return FromJson(json, "generated config");
    }

    /// <summary>A GPT-2 config from sizes, for tests and small experiments.</summary>
    public static ModelConfig Gpt2(int vocab, int hidden, int layers, int heads, int maxPositions = 256)
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray("GPT2LMHeadModel"), ["model_type"] = "gpt2", ["vocab_size"] = vocab,
            ["n_embd"] = hidden, ["n_layer"] = layers, ["n_head"] = heads, ["n_positions"] = maxPositions,
            ["n_inner"] = null, ["layer_norm_epsilon"] = 1e-5, ["activation_function"] = "gelu_new",
            ["resid_pdrop"] = 0.0, ["embd_pdrop"] = 0.0, ["attn_pdrop"] = 0.0, ["tie_word_embeddings"] = true,
            ["initializer_range"] = 0.02, ["torch_dtype"] = "float32",
        };
        return FromJson(json, "generated config");
    }

    /// <summary>The config as JSON, with the kit's special-token ids and dtype written over the original keys.</summary>
    public JsonObject ToJson(string? torchDtype = null)
    {
        var json = JsonNode.Parse(Raw.ToJsonString())!.AsObject();
        if (torchDtype is not null) json["torch_dtype"] = torchDtype;
        if (BosTokenId is { } bos) json["bos_token_id"] = bos;
        if (EosTokenIds.Count == 1) json["eos_token_id"] = EosTokenIds[0];
        else if (EosTokenIds.Count > 1) json["eos_token_id"] = new JsonArray(EosTokenIds.Select(i => (JsonNode)i).ToArray());
        if (PadTokenId is { } pad) json["pad_token_id"] = pad;
        if (Family == ModelFamily.Llama)
        {
            WriteRope(json);
            WriteSlidingWindow(json);
        }
        else if (Family == ModelFamily.Gemma) WriteGemma(json);
        return json;
    }

    // Writes RopeTheta and RopeScaling back where the config keeps them (rope_parameters or rope_theta + rope_scaling).
    private void WriteRope(JsonObject json)
    {
        if (json["rope_parameters"] is JsonObject parameters)
        {
            (RopeScaling ?? new RopeScaling { Type = "default" }).WriteTo(parameters);
            JsonNumber.Set(parameters, "rope_theta", RopeTheta);
            if (json.ContainsKey("rope_theta")) JsonNumber.Set(json, "rope_theta", RopeTheta);
            return;
        }
        JsonNumber.Set(json, "rope_theta", RopeTheta);
        if (RopeScaling is null)
        {
            if (json["rope_scaling"] is not null) json["rope_scaling"] = null;
        }
        else if (json["rope_scaling"] is JsonObject scaling) RopeScaling.WriteTo(scaling);
        else json["rope_scaling"] = RopeScaling.ToJson();
    }

    private void WriteSlidingWindow(JsonObject json)
    {
        if (ModelType is "mistral" or "phi3")
        {
            if (!json.ContainsKey("sliding_window") || JsonNumber.Read(json["sliding_window"]) != SlidingWindow)
                json["sliding_window"] = SlidingWindow;
        }
        else if (ModelType is "qwen2" or "qwen3")
        {
            if (SlidingWindow is not { } w)
            {
                if (json.ContainsKey("use_sliding_window")) json["use_sliding_window"] = false;
                return;
            }
            json["use_sliding_window"] = true;
            if (JsonNumber.Read(json["sliding_window"]) != w) json["sliding_window"] = w;
            // layer_types only when the config has it or max_window_layers cannot say the same
            var windowed = WindowedLayers ?? Enumerable.Repeat(true, NumLayers).ToArray();
            if (json.ContainsKey("layer_types") || !windowed.SequenceEqual(Qwen2WindowedLayers(new JsonObject
                {
                    ["max_window_layers"] = json["max_window_layers"]?.DeepClone(),
                }, "", NumLayers)))
                json["layer_types"] = new JsonArray(windowed.Select(b => (JsonNode)(b ? "sliding_attention" : "full_attention")).ToArray());
        }
    }

    /// <summary>Writes config.json atomically.</summary>
    public void Save(string directory, string? torchDtype = null) =>
        AtomicFile.WriteAllText(Path.Combine(directory, "config.json"),
            ToJson(torchDtype).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
}
