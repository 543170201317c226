namespace FineTune.Kit.Data.Curation;

/// <summary>
/// Drops rows whose normalised text (<see cref="TextNormalization"/>; by default lower case, punctuation removed,
/// white space collapsed) equals that of an earlier row; the first occurrence is kept. Whole keys are compared
/// (through a hash table), so two different texts are never merged by a hash collision.
/// </summary>
public sealed class ExactDuplicateRule(IReadOnlyList<string>? columns = null, TextNormalization? normalization = null) : ICurationRule
{
    /// <summary>How texts are normalised before they are compared.</summary>
    public TextNormalization Normalization { get; } = normalization ?? TextNormalization.Default;

    /// <inheritdoc/>
    public string Name => "drop_exact_duplicates";

    /// <inheritdoc/>
    public RuleOutcome Apply(IReadOnlyList<Example> rows)
    {
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        var removedByKept = new Dictionary<int, List<int>>();
        var kept = new List<Example>(rows.Count);
        var changes = new List<RowChange>();
        foreach (var row in rows)
        {
            var content = row.Content(columns);
            var key = Normalization.Apply(content);
            if (first.TryGetValue(key, out var keptLine))
            {
                changes.Add(new RowChange(row.Line, ChangeKind.Removed, $"exact duplicate of line {keptLine}", content));
                if (!removedByKept.TryGetValue(keptLine, out var list)) removedByKept[keptLine] = list = [];
                list.Add(row.Line);
                continue;
            }
            first[key] = row.Line;
            kept.Add(row);
        }
        var clusters = removedByKept.Select(kv => new DuplicateCluster("exact", kv.Key, kv.Value)).ToList();
        return new RuleOutcome(kept, changes) { Clusters = clusters, Notes = [$"texts compared after normalisation: {Normalization.Describe()}"] };
    }
}
