namespace FineTune.Kit.Data.Curation;

/// <summary>
/// Caps every label at <c>maxPerClass</c> rows by removing a seeded random sample of the surplus (rows keep their
/// input order). Rows without a label are kept. The report's label distribution shows the balance before and after.
/// </summary>
public sealed class CapClassSizeRule(int maxPerClass, string column = "label", int seed = Seeds.Default) : ICurationRule
{
    /// <summary>Most rows kept per label.</summary>
    public int MaxPerClass { get; } = maxPerClass > 0 ? maxPerClass : throw new ArgumentException($"class cap must be positive, got {maxPerClass}");

    /// <inheritdoc/>
    public string Name => "cap_class_size";

    /// <inheritdoc/>
    public RuleOutcome Apply(IReadOnlyList<Example> rows)
    {
        var random = new Random(seed);
        var drop = new HashSet<int>();
        var byLabel = Enumerable.Range(0, rows.Count).Where(i => rows[i][column] is not null)
                                .GroupBy(i => rows[i][column]!).OrderBy(g => g.Key, StringComparer.Ordinal);
        var notes = new List<string>();
        foreach (var g in byLabel)
        {
            var members = g.ToList();
            if (members.Count <= MaxPerClass) continue;
            Splitter.Shuffle(members, random);
            foreach (var i in members.Skip(MaxPerClass)) drop.Add(i);
            notes.Add($"label '{g.Key}': {members.Count} rows capped to {MaxPerClass}");
        }
        var kept = new List<Example>();
        var changes = new List<RowChange>();
        for (int i = 0; i < rows.Count; i++)
        {
            if (drop.Contains(i)) changes.Add(new RowChange(rows[i].Line, ChangeKind.Removed, $"class '{rows[i][column]}' over the cap of {MaxPerClass}", rows[i].Content()));
            else kept.Add(rows[i]);
        }
        return new RuleOutcome(kept, changes) { Notes = notes };
    }
}
