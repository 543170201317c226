namespace FineTune.Kit.Data.Curation;

/// <summary>What to do with rows that share a text but disagree on the label.</summary>
public enum ConflictResolution
{
    /// <summary>Remove every row of the conflicting group: nobody knows which label is right.</summary>
    DropAll,

    /// <summary>Keep the rows with the most common label if it is a strict majority, drop the rest; drop all on a tie.</summary>
    KeepMajority,

    /// <summary>Keep everything; only list the conflicts in the report.</summary>
    ReportOnly,
}

/// <summary>
/// Finds rows with the same normalised text (<see cref="TextKey"/>) but different labels. Run it
/// before duplicate removal, which would otherwise keep only the first row of such a group and hide the conflict.
/// </summary>
public sealed class LabelConflictRule(string column = "label", ConflictResolution resolution = ConflictResolution.DropAll,
    IReadOnlyList<string>? textColumns = null) : ICurationRule
{
    /// <summary>The label column.</summary>
    public string Column { get; } = column;

    /// <summary>How conflicts are resolved.</summary>
    public ConflictResolution Resolution { get; } = resolution;

    /// <inheritdoc/>
    public string Name => "label_conflicts";

    /// <inheritdoc/>
    public RuleOutcome Apply(IReadOnlyList<Example> rows)
    {
        var groups = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int i = 0; i < rows.Count; i++)
        {
            if (rows[i][Column] is null) continue;
            var key = TextKey.Of(rows[i].Content(textColumns));
            if (!groups.TryGetValue(key, out var list)) groups[key] = list = [];
            list.Add(i);
        }
        var drop = new Dictionary<int, string>();
        var notes = new List<string>();
        foreach (var group in groups.Values)
        {
            var byLabel = group.GroupBy(i => rows[i][Column]!).OrderByDescending(g => g.Count()).ToList();
            if (byLabel.Count < 2) continue;
            var summary = string.Join(", ", byLabel.Select(g => $"'{g.Key}' on lines {string.Join("/", g.Select(i => rows[i].Line))}"));
            notes.Add($"conflict: {summary}");
            if (Resolution == ConflictResolution.ReportOnly) continue;
            bool majority = Resolution == ConflictResolution.KeepMajority && byLabel[0].Count() > byLabel[1].Count();
            foreach (var g in byLabel.Skip(majority ? 1 : 0))
                foreach (var i in g)
                    drop[i] = majority
                        ? $"label '{g.Key}' conflicts with majority label '{byLabel[0].Key}' for the same text"
                        : $"same text has conflicting labels ({summary})";
        }
        var kept = new List<Example>();
        var changes = new List<RowChange>();
        for (int i = 0; i < rows.Count; i++)
        {
            if (drop.TryGetValue(i, out var reason)) changes.Add(new RowChange(rows[i].Line, ChangeKind.Removed, reason, rows[i].Content(textColumns)));
            else kept.Add(rows[i]);
        }
        return new RuleOutcome(kept, changes) { Notes = notes };
    }
}
