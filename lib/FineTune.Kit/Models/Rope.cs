using System.Text.Json.Nodes;

namespace FineTune.Kit.Models;

/// <summary>
/// RoPE scaling as config.json states it in `rope_scaling` (or `rope_parameters`, the name newer transformers
/// releases write), following Hugging Face transformers' definitions of each type.
/// </summary>
public sealed record RopeScaling
{
    /// <summary>The types the kit implements: default, linear, dynamic (NTK), llama3 and longrope (Phi-3.5, Phi-4-mini).</summary>
    public static IReadOnlyList<string> SupportedTypes { get; } = ["default", "linear", "dynamic", "llama3", "longrope"];

    /// <summary>`rope_type` (or the legacy `type`): one of <see cref="SupportedTypes"/>.</summary>
    public required string Type { get; init; }
    /// <summary>
    /// `factor`: how much longer the context is meant to be than the one the model was trained on (1 for default). A
    /// longrope config.json may leave it out: <see cref="ModelConfig"/> then sets max_position_embeddings /
    /// original_max_position_embeddings, as transformers does (<see cref="Parse"/> alone leaves 0).
    /// </summary>
    public double Factor { get; init; } = 1;
    /// <summary>`low_freq_factor` (llama3): wavelengths above original_max_position_embeddings / this are divided by the factor.</summary>
    public double? LowFreqFactor { get; init; }
    /// <summary>`high_freq_factor` (llama3): wavelengths below original_max_position_embeddings / this are kept.</summary>
    public double? HighFreqFactor { get; init; }
    /// <summary>`original_max_position_embeddings`: the context length of pre-training (required by llama3, kept when given for the others).</summary>
    public int? OriginalMaxPositions { get; init; }

    /// <summary>`short_factor` (longrope): per rotated pair, how much to stretch its wavelength up to original_max_position_embeddings.</summary>
    public IReadOnlyList<double>? ShortFactor { get; init; }
    /// <summary>`long_factor` (longrope): the same for sequences longer than original_max_position_embeddings.</summary>
    public IReadOnlyList<double>? LongFactor { get; init; }
    /// <summary>
    /// `attention_factor` (longrope): what cos and sin are multiplied by; when the config has none,
    /// √(1 + ln factor / ln original_max_position_embeddings) (1 when factor ≤ 1).
    /// </summary>
    public double? AttentionFactor { get; init; }

    /// <summary>Whether the frequencies depend on the sequence length (dynamic NTK; longrope's short or long factors).</summary>
    public bool DependsOnLength => Type is "dynamic" or "longrope";

    /// <summary>
    /// Reads a `rope_scaling` object. <paramref name="source"/> and <paramref name="key"/> name the file and the key in
    /// errors.
    /// </summary>
    /// <exception cref="ModelFormatException">The type is missing or not supported, or a parameter it needs is missing or out of range.</exception>
    public static RopeScaling Parse(JsonObject json, string source = "config.json", string key = "rope_scaling")
    {
        string supported = string.Join(", ", SupportedTypes);
        var typeNode = json["rope_type"] ?? json["type"];
        if (typeNode is not JsonValue tv || !tv.TryGetValue<string>(out var type))
            throw new ModelFormatException($"{source}: \"{key}\" has no \"rope_type\" (or \"type\"); supported types: {supported}.");
        if (!SupportedTypes.Contains(type))
            throw new ModelFormatException(
                $"{source}: \"{key}\" type \"{type}\" is not supported (supported: {supported}); the model would compute wrong positions without it.");

        double Required(string name)
        {
            double value = JsonNumber.Read(json[name])
                           ?? throw new ModelFormatException($"{source}: \"{key}\" type \"{type}\" needs a numeric \"{name}\".");
            if (!(value > 0) || !double.IsFinite(value))
                throw new ModelFormatException($"{source}: \"{key}\" {name} must be a positive number, got {value}.");
            return value;
        }

        int? originalMax = null;
        if (json["original_max_position_embeddings"] is { } om)
        {
            double v = JsonNumber.Read(om) ?? double.NaN;
            if (!(v >= 1) || v != Math.Floor(v) || v > int.MaxValue)
                throw new ModelFormatException($"{source}: \"{key}\" original_max_position_embeddings must be a positive integer, got {om.ToJsonString()}.");
            originalMax = (int)v;
        }

        IReadOnlyList<double> Factors(string name)
        {
            if (json[name] is not JsonArray array || array.Count == 0)
                throw new ModelFormatException($"{source}: \"{key}\" type \"{type}\" needs \"{name}\", a list of numbers (one per rotated pair).");
            var values = new double[array.Count];
            for (int i = 0; i < array.Count; i++)
                values[i] = JsonNumber.Read(array[i]) is { } v && v > 0 && double.IsFinite(v) ? v
                    : throw new ModelFormatException($"{source}: \"{key}\" {name}[{i}] must be a positive number, got {array[i]?.ToJsonString() ?? "null"}.");
            return values;
        }

        switch (type)
        {
            case "longrope":
            {
                double? Optional(string name) => json[name] is null ? null : Required(name);
                var (shortFactor, longFactor) = (Factors("short_factor"), Factors("long_factor"));
                if (shortFactor.Count != longFactor.Count)
                    throw new ModelFormatException($"{source}: \"{key}\" short_factor has {shortFactor.Count} values and long_factor {longFactor.Count}; they must match.");
                return new RopeScaling
                {
                    Type = type, Factor = Optional("factor") ?? 0, ShortFactor = shortFactor, LongFactor = longFactor,
                    AttentionFactor = Optional("attention_factor"), OriginalMaxPositions = originalMax,
                };
            }
            case "default":
                return new RopeScaling { Type = type, OriginalMaxPositions = originalMax };
            case "linear":
            case "dynamic":
                return new RopeScaling { Type = type, Factor = Required("factor"), OriginalMaxPositions = originalMax };
            default: // llama3
                double factor = Required("factor"), low = Required("low_freq_factor"), high = Required("high_freq_factor");
                if (originalMax is null)
                    throw new ModelFormatException($"{source}: \"{key}\" type \"llama3\" needs \"original_max_position_embeddings\".");
                if (high <= low)
                    throw new ModelFormatException($"{source}: \"{key}\" high_freq_factor ({high}) must be greater than low_freq_factor ({low}).");
                return new RopeScaling
                {
                    Type = type, Factor = factor, LowFreqFactor = low, HighFreqFactor = high, OriginalMaxPositions = originalMax,
                };
        }
    }

    /// <summary>
    /// Writes this scaling into a `rope_scaling` object, keeping its other keys, its type key (`rope_type` or the legacy
    /// `type`) and the written form of numbers that did not change.
    /// </summary>
    public void WriteTo(JsonObject json)
    {
        bool legacyOnly = json.ContainsKey("type") && !json.ContainsKey("rope_type");
        var previous = (json["rope_type"] ?? json["type"]) is JsonValue v && v.TryGetValue<string>(out var t) ? t : null;
        if (previous is not null && previous != Type)
            foreach (var key in (string[])["factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings", "short_factor", "long_factor", "attention_factor"])
                json.Remove(key);
        json[legacyOnly ? "type" : "rope_type"] = Type;
        if (!legacyOnly && json.ContainsKey("type")) json["type"] = Type;
        if (Type != "default" || json.ContainsKey("factor")) JsonNumber.Set(json, "factor", Factor);
        if (LowFreqFactor is { } low) JsonNumber.Set(json, "low_freq_factor", low);
        if (HighFreqFactor is { } high) JsonNumber.Set(json, "high_freq_factor", high);
        if (ShortFactor is { } shortFactor) SetList(json, "short_factor", shortFactor);
        if (LongFactor is { } longFactor) SetList(json, "long_factor", longFactor);
        if (AttentionFactor is { } attention) JsonNumber.Set(json, "attention_factor", attention);
        if (OriginalMaxPositions is { } om && JsonNumber.Read(json["original_max_position_embeddings"]) != om)
            json["original_max_position_embeddings"] = om;
    }

    // a list of numbers, left as written when the values are the same
    private static void SetList(JsonObject json, string key, IReadOnlyList<double> values)
    {
        if (json[key] is JsonArray a && a.Count == values.Count && a.Select(JsonNumber.Read).SequenceEqual(values.Select(v => (double?)v))) return;
        json[key] = new JsonArray(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
    }

    /// <summary>
    /// Longrope's values that depend on the model: original_max_position_embeddings from the config's top level when
    /// rope_scaling has none (Phi-3's layout), else max_position_embeddings; the factor, when not given, as
    /// max_position_embeddings / original. Other types are returned unchanged.
    /// </summary>
    internal RopeScaling ForModel(int? topLevelOriginalMax, int maxPositions)
    {
        if (Type != "longrope") return this;
        int original = OriginalMaxPositions ?? topLevelOriginalMax ?? maxPositions;
        return this with { OriginalMaxPositions = original, Factor = Factor > 0 ? Factor : (double)maxPositions / original };
    }

    /// <summary>This scaling as a new `rope_scaling` object.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject();
        WriteTo(json);
        return json;
    }
}

/// <summary>RoPE's inverse frequencies (`inv_freq`), with the config's scaling applied: the one place they are computed.</summary>
public static class RopeFrequencies
{
    /// <summary>
    /// The inverse frequencies for the config's rotated head width, RoPE base and scaling, one per rotated pair
    /// (<see cref="ModelConfig.RotaryDim"/> / 2).
    /// <paramref name="sequenceLength"/> matters only for dynamic scaling: the number of positions the current forward
    /// pass covers, cached ones included.
    /// </summary>
    public static double[] Compute(ModelConfig config, long sequenceLength = 0)
    {
        var s = config.RopeScaling;
        int dim = config.RotaryDim;   // head_dim unless only part of each head rotates (Phi-3's partial_rotary_factor)
        double theta = config.RopeTheta;
        switch (s?.Type)
        {
            case null or "default":
                return Plain(dim, theta);
            case "linear":
                // dividing positions by the factor is dividing every frequency by it
                return Plain(dim, theta).Select(f => f / s.Factor).ToArray();
            case "dynamic":
            {
                // NTK-aware: beyond max_position_embeddings the base grows with the length,
                // base' = θ · (factor · L / max − (factor − 1))^(d / (d − 2)); up to it nothing changes
                long max = config.MaxPositions, length = Math.Max(sequenceLength, max);
                if (length == max) return Plain(dim, theta);
                double b = theta * Math.Pow(s.Factor * length / max - (s.Factor - 1), dim / (dim - 2.0));
                return Plain(dim, b);
            }
            case "llama3":
            {
                double factor = s.Factor, low = s.LowFreqFactor!.Value, high = s.HighFreqFactor!.Value;
                double original = s.OriginalMaxPositions!.Value;
                double lowFreqWavelen = original / low, highFreqWavelen = original / high;
                return Plain(dim, theta).Select(f =>
                {
                    double wavelen = 2 * Math.PI / f;
                    if (wavelen < highFreqWavelen) return f;              // high frequencies: kept
                    if (wavelen > lowFreqWavelen) return f / factor;      // low frequencies: interpolated fully
                    // in between: blend, from f / factor at the low-frequency edge to f at the high-frequency edge
                    double smooth = (original / wavelen - low) / (high - low);
                    return (1 - smooth) * f / factor + smooth * f;
                }).ToArray();
            }
            case "longrope":
            {
                // each rotated pair's wavelength stretched by its own factor: the short ones up to the pre-training
                // context, the long ones beyond it (chosen per forward pass, like dynamic NTK)
                var factors = sequenceLength > s.OriginalMaxPositions!.Value ? s.LongFactor! : s.ShortFactor!;
                var plain = Plain(dim, theta);
                if (factors.Count != plain.Length)
                    throw new ModelFormatException($"rope_scaling longrope has {factors.Count} factors, expected one per rotated pair ({plain.Length}).");
                return plain.Select((f, i) => f / factors[i]).ToArray();
            }
            default:
                throw new ModelFormatException($"RoPE scaling type \"{s.Type}\" is not supported (supported: {string.Join(", ", RopeScaling.SupportedTypes)}).");
        }
    }

    /// <summary>
    /// What RoPE's cos and sin tables are multiplied by: 1 except for longrope, whose attention_factor (or
    /// √(1 + ln factor / ln original_max_position_embeddings) when the config gives none) sharpens attention over the
    /// longer context.
    /// </summary>
    public static double AttentionScaling(ModelConfig config)
    {
        if (config.RopeScaling is not { Type: "longrope" } s) return 1;
        if (s.AttentionFactor is { } given) return given;
        double factor = s.Factor, original = s.OriginalMaxPositions!.Value;
        return factor <= 1 ? 1 : Math.Sqrt(1 + Math.Log(factor) / Math.Log(original));
    }

    /// <summary>Unscaled frequencies: 1 / θ^(2i / d) for i = 0 … d/2 − 1.</summary>
    public static double[] Plain(int headDim, double theta) =>
        Enumerable.Range(0, headDim / 2).Select(i => 1 / Math.Pow(theta, 2.0 * i / headDim)).ToArray();
}

/// <summary>Numbers in config.json, whichever way they were written (2, 2.0) or created.</summary>
internal static class JsonNumber
{
    /// <summary>A JSON number as a double (integers included); null for anything else.</summary>
    public static double? Read(JsonNode? node)
    {
        if (node is not JsonValue v) return null;
        if (v.TryGetValue<double>(out var d)) return d;
        if (v.TryGetValue<long>(out var l)) return l;
        if (v.TryGetValue<int>(out var i)) return i;
        if (v.TryGetValue<float>(out var f)) return f;
        if (v.TryGetValue<decimal>(out var m)) return (double)m;
        return null;
    }

    /// <summary>Sets a number unless the key already holds the same value (so `32.0` stays `32.0`).</summary>
    public static void Set(JsonObject json, string key, double value)
    {
        if (Read(json[key]) != value) json[key] = value;
    }
}
