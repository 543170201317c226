namespace FineTune.Kit.Data.Curation;

/// <summary>
/// Cleans a label column: trims, matches the canonical labels case-insensitively, applies an explicit mapping
/// (e.g. "biling" to "billing"), and failing that maps a label within <c>maxEditDistance</c> edits of exactly one
/// canonical label to it. With no canonical list, labels are only trimmed (and lower-cased if asked). A row whose
/// label matches nothing is removed when <c>dropUnknown</c> is set, otherwise kept as it is.
/// </summary>
public sealed class NormalizeLabelsRule : ICurationRule
{
    private readonly Dictionary<string, string> _canonical;
    private readonly Dictionary<string, string> _mapping;

    /// <summary>Creates the rule.</summary>
    public NormalizeLabelsRule(IEnumerable<string>? canonical = null, IReadOnlyDictionary<string, string>? mapping = null,
        string column = "label", int maxEditDistance = 2, bool dropUnknown = true, bool lowerCase = false)
    {
        Canonical = canonical?.ToList() ?? [];
        _canonical = Canonical.ToDictionary(l => l.Trim().ToLowerInvariant(), l => l);
        _mapping = (mapping ?? new Dictionary<string, string>()).ToDictionary(kv => kv.Key.Trim().ToLowerInvariant(), kv => kv.Value);
        Column = column;
        MaxEditDistance = maxEditDistance;
        DropUnknown = dropUnknown;
        LowerCase = lowerCase;
    }

    /// <summary>The allowed labels, as they should be written.</summary>
    public IReadOnlyList<string> Canonical { get; }

    /// <summary>The label column.</summary>
    public string Column { get; }

    /// <summary>Largest edit distance at which a typo is mapped to a canonical label.</summary>
    public int MaxEditDistance { get; }

    /// <summary>Whether rows with unmatched labels are removed.</summary>
    public bool DropUnknown { get; }

    /// <summary>Whether labels are lower-cased when there is no canonical list.</summary>
    public bool LowerCase { get; }

    /// <inheritdoc/>
    public string Name => "normalize_labels";

    /// <summary>The canonical label for a raw one, or null when nothing matches.</summary>
    public string? Normalize(string raw)
    {
        var trimmed = raw.Trim();
        if (Canonical.Count == 0 && _mapping.Count == 0) return LowerCase ? trimmed.ToLowerInvariant() : trimmed;
        var key = trimmed.ToLowerInvariant();
        if (_mapping.TryGetValue(key, out var mapped)) return mapped;
        if (_canonical.TryGetValue(key, out var canonical)) return canonical;
        if (Canonical.Count == 0) return LowerCase ? key : trimmed;
        var near = _canonical.Select(kv => (kv.Value, Distance: EditDistance(key, kv.Key)))
                             .Where(x => x.Distance <= MaxEditDistance).OrderBy(x => x.Distance).ToList();
        // only an unambiguous nearest label: "bug" vs "bag" between "bog" and "big" is left alone
        if (near.Count == 1 || (near.Count > 1 && near[0].Distance < near[1].Distance)) return near[0].Value;
        return null;
    }

    /// <inheritdoc/>
    public RuleOutcome Apply(IReadOnlyList<Example> rows)
    {
        var kept = new List<Example>(rows.Count);
        var changes = new List<RowChange>();
        foreach (var row in rows)
        {
            var raw = row[Column];
            if (raw is null) { kept.Add(row); continue; }
            var label = Normalize(raw);
            if (label is null)
            {
                if (DropUnknown) { changes.Add(new RowChange(row.Line, ChangeKind.Removed, $"unknown label '{raw}'", raw)); continue; }
                kept.Add(row);
                continue;
            }
            if (label == raw) { kept.Add(row); continue; }
            kept.Add(row.With(Column, label));
            changes.Add(new RowChange(row.Line, ChangeKind.Modified, $"label '{raw}' -> '{label}'", raw, label));
        }
        return new RuleOutcome(kept, changes);
    }

    /// <summary>Levenshtein distance (insertions, deletions, substitutions each cost 1).</summary>
    public static int EditDistance(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}
