namespace FineTune.Kit.Data.Curation;

/// <summary>Drops rows whose text has fewer or more tokens than the limits, counted by any tokenizer.</summary>
public sealed class FilterTokenCountRule(int min, int max, Func<string, int>? countTokens = null, IReadOnlyList<string>? columns = null) : RowFilterRule
{
    private readonly Func<string, int> _count = countTokens ?? TokenCounters.Whitespace;

    /// <summary>Fewest tokens kept.</summary>
    public int Min { get; } = min;

    /// <summary>Most tokens kept.</summary>
    public int Max { get; } = max;

    /// <inheritdoc/>
    public override string Name => "filter_tokens";

    /// <inheritdoc/>
    public override string? RemovalReason(Example row)
    {
        int n = _count(row.Content(columns));
        return n < Min ? $"too few tokens: {n} < {Min}" : n > Max ? $"too many tokens: {n} > {Max}" : null;
    }
}
