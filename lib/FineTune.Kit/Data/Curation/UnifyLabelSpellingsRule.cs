namespace FineTune.Kit.Data.Curation;

/// <summary>
/// Unifies the spellings of each label without a list of the labels: spellings that differ only in case, in the
/// separator between words (space, '-' or '_') or in punctuation around them ("Billing ", "billing.", "BILLING",
/// "shipping-delay", "Shipping Delay") become the most frequent spelling of that group. A rare group (under
/// <see cref="RareShare"/> of the largest group's rows) within <see cref="MaxEditDistance"/> edits of exactly one common
/// group is taken for a typo of it ("account_acces", "feed_back"). Every other label is kept as it is, none is
/// dropped; each change is reported. Runs by default in `ftk curate`, where a label spelled two ways would otherwise
/// train as two classes that the prompt cannot tell apart.
/// </summary>
public sealed class UnifyLabelSpellingsRule(string column = "label", int maxEditDistance = 2, double rareShare = 0.05) : ICurationRule
{
    /// <summary>The label column.</summary>
    public string Column { get; } = column;

    /// <summary>Largest edit distance at which a rare spelling is taken for a typo of a common one.</summary>
    public int MaxEditDistance { get; } = maxEditDistance;

    /// <summary>A group with fewer rows than this share of the largest group's counts as rare.</summary>
    public double RareShare { get; } = rareShare;

    /// <inheritdoc/>
    public string Name => "unify_label_spellings";

    /// <summary>The key spellings of one label share: lower case, words joined by '_', no punctuation around them.</summary>
    public static string Key(string label)
    {
        var words = label.ToLowerInvariant().Split([' ', '-', '_', '\t'], StringSplitOptions.RemoveEmptyEntries)
            .Select(w => w.Trim('.', ',', ';', ':', '!', '?', '"', '\'')).Where(w => w.Length > 0);
        return string.Join('_', words);
    }

    /// <summary>The spelling each raw label becomes, for the labels of <paramref name="rows"/>.</summary>
    public IReadOnlyDictionary<string, string> Spellings(IReadOnlyList<Example> rows)
    {
        var counts = rows.Select(r => r[Column]).OfType<string>().GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());
        // the most frequent spelling names each group (ties: ordinal order, so the result does not depend on row order)
        var groups = counts.GroupBy(kv => Key(kv.Key)).Where(g => g.Key.Length > 0).ToDictionary(g => g.Key, g => (
            Spelling: g.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).First().Key,
            Rows: g.Sum(kv => kv.Value)));
        if (groups.Count == 0) return new Dictionary<string, string>();
        int largest = groups.Values.Max(g => g.Rows);
        var common = groups.Where(g => g.Value.Rows >= RareShare * largest).Select(g => g.Key).ToList();
        var target = new Dictionary<string, string>();
        foreach (var (key, group) in groups)
        {
            target[key] = group.Spelling;
            if (common.Contains(key)) continue;
            var near = common.Select(c => (c, d: NormalizeLabelsRule.EditDistance(key, c))).Where(x => x.d <= MaxEditDistance)
                .OrderBy(x => x.d).ToList();
            if (near.Count == 1 || (near.Count > 1 && near[0].d < near[1].d)) target[key] = groups[near[0].c].Spelling;
        }
        return counts.Keys.Where(l => target.ContainsKey(Key(l))).ToDictionary(l => l, l => target[Key(l)]);
    }

    /// <inheritdoc/>
    public RuleOutcome Apply(IReadOnlyList<Example> rows)
    {
        var spelling = Spellings(rows);
        var kept = new List<Example>(rows.Count);
        var changes = new List<RowChange>();
        foreach (var row in rows)
        {
            if (row[Column] is { } raw && spelling.TryGetValue(raw, out var label) && label != raw)
            {
                kept.Add(row.With(Column, label));
                changes.Add(new RowChange(row.Line, ChangeKind.Modified, $"label '{raw}' -> '{label}'", raw, label));
            }
            else kept.Add(row);
        }
        return new RuleOutcome(kept, changes);
    }
}
