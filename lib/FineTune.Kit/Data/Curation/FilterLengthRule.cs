using System.Globalization;

namespace FineTune.Kit.Data.Curation;

/// <summary>
/// Drops rows whose text is shorter or longer than the limits, counted in user-perceived characters (grapheme
/// clusters: "é" written as e plus a combining accent counts once).
/// </summary>
public sealed class FilterLengthRule(int minChars = 0, int maxChars = int.MaxValue, IReadOnlyList<string>? columns = null) : RowFilterRule
{
    /// <summary>Fewest characters kept.</summary>
    public int MinChars { get; } = minChars;

    /// <summary>Most characters kept.</summary>
    public int MaxChars { get; } = maxChars;

    /// <inheritdoc/>
    public override string Name => "filter_length";

    /// <inheritdoc/>
    public override string? RemovalReason(Example row)
    {
        int n = new StringInfo(row.Content(columns)).LengthInTextElements;
        return n < MinChars ? $"too short: {n} < {MinChars} characters"
             : n > MaxChars ? $"too long: {n} > {MaxChars} characters"
             : null;
    }
}
