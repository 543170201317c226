namespace FineTune.Kit.Data.Curation;

/// <summary>
/// One curation step. A rule sees all rows (so that it can compare them: duplicates, conflicts, balance), returns the
/// rows it keeps, and records for every row it removed or changed what it did and why.
/// </summary>
public interface ICurationRule
{
    /// <summary>Short, stable name used in reports and in curation.json (e.g. <c>strip_html</c>).</summary>
    string Name { get; }

    /// <summary>Applies the rule.</summary>
    RuleOutcome Apply(IReadOnlyList<Example> rows);
}

/// <summary>What a rule did to one row.</summary>
public enum ChangeKind
{
    /// <summary>The row was dropped.</summary>
    Removed,

    /// <summary>The row was kept with changed content.</summary>
    Modified,
}

/// <summary>A record of one row removed or changed by a rule.</summary>
/// <param name="Line">Source line of the row.</param>
/// <param name="Kind">Removed or modified.</param>
/// <param name="Reason">Why, in words (e.g. "near duplicate of line 12 (Jaccard ~0.91)").</param>
/// <param name="Before">The row's text before (for examples in the report; may be abbreviated).</param>
/// <param name="After">The row's text after a modification.</param>
public sealed record RowChange(int Line, ChangeKind Kind, string Reason, string? Before = null, string? After = null);

/// <summary>The result of one rule: the rows kept (in order) and what happened to the others.</summary>
public sealed class RuleOutcome
{
    /// <summary>Creates an outcome.</summary>
    public RuleOutcome(IReadOnlyList<Example> kept, IReadOnlyList<RowChange> changes)
    {
        Kept = kept;
        Changes = changes;
    }

    /// <summary>Rows that go on to the next rule.</summary>
    public IReadOnlyList<Example> Kept { get; }

    /// <summary>One entry per row removed or modified (at most one per row).</summary>
    public IReadOnlyList<RowChange> Changes { get; }

    /// <summary>Duplicate clusters found by the rule, if it looks for duplicates.</summary>
    public IReadOnlyList<DuplicateCluster> Clusters { get; init; } = [];

    /// <summary>Extra findings a rule wants in the report (conflicts, label-noise candidates, balance), as text.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

/// <summary>A set of rows judged to be copies of each other: the one kept and the ones removed.</summary>
/// <param name="Kind"><c>exact</c> or <c>near</c>.</param>
/// <param name="KeptLine">Line of the row that was kept (the first in input order).</param>
/// <param name="RemovedLines">Lines of the rows removed as its duplicates.</param>
public sealed record DuplicateCluster(string Kind, int KeptLine, IReadOnlyList<int> RemovedLines);
