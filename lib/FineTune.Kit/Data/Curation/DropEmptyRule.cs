using System.Text.Json.Nodes;

namespace FineTune.Kit.Data.Curation;

/// <summary>Drops rows where any of the given columns is missing, null, blank, or an empty list.</summary>
public sealed class DropEmptyRule : RowFilterRule
{
    /// <summary>Creates the rule for the given columns (default: every text column the row has, and at least one).</summary>
    public DropEmptyRule(params string[] columns) => Columns = columns;

    /// <summary>The columns that must not be empty.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <inheritdoc/>
    public override string Name => "drop_empty";

    /// <inheritdoc/>
    public override string? RemovalReason(Example row)
    {
        if (Columns.Count == 0)
            return string.IsNullOrWhiteSpace(row.Content()) ? "no text in any text column" : null;
        foreach (var column in Columns)
        {
            if (!row.Fields.TryGetPropertyValue(column, out var node) || node is null) return $"'{column}' is missing";
            if (node is JsonArray a && a.Count == 0) return $"'{column}' is an empty list";
            if (node is JsonValue v && v.TryGetValue<string>(out var s) && string.IsNullOrWhiteSpace(s)) return $"'{column}' is empty";
        }
        return null;
    }
}
