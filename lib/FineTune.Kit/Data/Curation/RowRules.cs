namespace FineTune.Kit.Data.Curation;

/// <summary>Base for rules that rewrite text field by field (normalisation, HTML stripping, redaction).</summary>
public abstract class TextTransformRule(IReadOnlyList<string>? columns) : IStreamingCurationRule
{
    /// <summary>The columns transformed (null: <see cref="Example.DefaultTextColumns"/>).</summary>
    public IReadOnlyList<string>? Columns { get; } = columns;

    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <summary>Transforms one text value.</summary>
    public abstract string Transform(string text);

    /// <summary>Why a changed row changed; override to be more specific (e.g. what was redacted).</summary>
    protected virtual string Describe(string before, string after) => Name;

    /// <inheritdoc/>
    public RowStage Begin() => new FuncRowStage(row =>
    {
        var changed = row.MapText(Transform, Columns);
        if (ReferenceEquals(changed, row)) return (row, null);
        string before = row.Content(Columns), after = changed.Content(Columns);
        return (changed, new RowChange(row.Line, ChangeKind.Modified, Describe(before, after), before, after));
    });

    /// <inheritdoc/>
    public RuleOutcome Apply(IReadOnlyList<Example> rows)
    {
        var kept = new List<Example>(rows.Count);
        var changes = new List<RowChange>();
        foreach (var row in rows)
        {
            var changed = row.MapText(Transform, Columns);
            kept.Add(changed);
            if (ReferenceEquals(changed, row)) continue;
            string before = row.Content(Columns), after = changed.Content(Columns);
            changes.Add(new RowChange(row.Line, ChangeKind.Modified, Describe(before, after), before, after));
        }
        return new RuleOutcome(kept, changes);
    }
}

/// <summary>Base for rules that judge each row on its own and keep or drop it.</summary>
public abstract class RowFilterRule : IStreamingCurationRule
{
    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <summary>Null to keep the row, otherwise the reason for dropping it.</summary>
    public abstract string? RemovalReason(Example row);

    /// <inheritdoc/>
    public RowStage Begin() => new FuncRowStage(row => RemovalReason(row) is { } reason
        ? (null, new RowChange(row.Line, ChangeKind.Removed, reason, row.Content()))
        : (row, null));

    /// <inheritdoc/>
    public RuleOutcome Apply(IReadOnlyList<Example> rows)
    {
        var kept = new List<Example>(rows.Count);
        var changes = new List<RowChange>();
        foreach (var row in rows)
        {
            var reason = RemovalReason(row);
            if (reason is null) kept.Add(row);
            else changes.Add(new RowChange(row.Line, ChangeKind.Removed, reason, row.Content()));
        }
        return new RuleOutcome(kept, changes);
    }
}
