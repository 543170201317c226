namespace FineTune.Kit.Prompting;

/// <summary>
/// Maps each label to the text the model should produce after the prompt (" billing" for label "billing"), and back.
/// The leading space matters for BPE tokenizers: " billing" is usually one token, "billing" after a colon is not.
/// Immutable: <see cref="Map"/> returns a new verbaliser, so templates that share one cannot change each other.
/// </summary>
public sealed class LabelVerbalizer
{
    private readonly List<KeyValuePair<string, string>> _map;

    /// <summary>An empty verbaliser; add labels with <see cref="Map"/>.</summary>
    public LabelVerbalizer() => _map = [];

    private LabelVerbalizer(List<KeyValuePair<string, string>> map) => _map = map;

    /// <summary>Each label verbalised as itself with a leading space: "billing" → " billing".</summary>
    public static LabelVerbalizer Identity(IEnumerable<string> labels, string prefix = " ")
    {
        var v = new LabelVerbalizer();
        foreach (var l in labels) v = v.Map(l, prefix + l);
        return v;
    }

    /// <summary>Each label read as words with a leading space: "shipping_delay" → " shipping delay".</summary>
    public static LabelVerbalizer AsWords(IEnumerable<string> labels)
    {
        var v = new LabelVerbalizer();
        foreach (var l in labels) v = v.Map(l, " " + l.Replace('_', ' '));
        return v;
    }

    /// <summary>A copy with the verbalisation of a label added or replaced; labels keep the order they were first added in.</summary>
    public LabelVerbalizer Map(string label, string text)
    {
        if (string.IsNullOrEmpty(text)) throw new ArgumentException($"label '{label}' needs a non-empty verbalisation");
        var map = new List<KeyValuePair<string, string>>(_map);
        var i = map.FindIndex(p => p.Key == label);
        if (i >= 0) map[i] = new(label, text);
        else map.Add(new(label, text));
        if (map.FirstOrDefault(p => p.Value == text && p.Key != label) is { Key: { } other })
            throw new LabelCollisionException(other, label, text);
        return new LabelVerbalizer(map);
    }

    /// <summary>The labels, in declaration order.</summary>
    public IReadOnlyList<string> Labels => _map.Select(p => p.Key).ToArray();

    /// <summary>The continuations, aligned with <see cref="Labels"/>.</summary>
    public IReadOnlyList<string> Continuations => _map.Select(p => p.Value).ToArray();

    /// <summary>The text that follows the prompt for this label.</summary>
    public string Verbalize(string label)
    {
        foreach (var p in _map) if (p.Key == label) return p.Value;
        throw new ArgumentException($"label '{label}' has no verbalisation; known labels: {string.Join(", ", Labels)}");
    }

    /// <summary>
    /// The label whose verbalisation a generated text starts with (after trimming whitespace, case-insensitive), or
    /// null when none matches — for classifiers that generate instead of scoring.
    /// </summary>
    public string? Parse(string generated)
    {
        var g = generated.TrimStart();
        // longest first so that " billing dispute" wins over " billing"
        foreach (var p in _map.OrderByDescending(p => p.Value.Trim().Length))
            if (g.StartsWith(p.Value.Trim(), StringComparison.OrdinalIgnoreCase)) return p.Key;
        return null;
    }
}

/// <summary>Two labels would be verbalised as the same text, so a model could not tell them apart.</summary>
public sealed class LabelCollisionException(string first, string second, string text)
    : ArgumentException($"labels '{first}' and '{second}' are both verbalised as \"{text}\": the model could not tell them apart")
{
    /// <summary>The label that had the text first.</summary>
    public string First { get; } = first;
    /// <summary>The label that was given the same text.</summary>
    public string Second { get; } = second;
    /// <summary>The shared verbalisation.</summary>
    public string Text { get; } = text;
}
