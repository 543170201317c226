using System.Text;

namespace FineTune.Kit.Explain;

/// <summary>
/// Masking at the level of text, for value functions that only take strings (a served model, a pipeline that
/// re-tokenises): an absent feature's characters are dropped, or replaced by a placeholder such as "[MASK]" or "…".
/// Text between features is kept, except that dropping a word does not leave a double space behind.
/// </summary>
public static class TextMasking
{
    /// <summary>The source text with the absent features removed or replaced.</summary>
    public static string Apply(FeatureSet features, bool[] coalition, string? replacement = null)
    {
        var text = features.Text
            ?? throw new ArgumentException("Text masking needs features built from a text (FromWords, FromTokens with offsets, FromSpans).");
        if (coalition.Length != features.Count)
            throw new ArgumentException($"A coalition has {coalition.Length} entries but there are {features.Count} features.");
        var sb = new StringBuilder(text.Length);
        int at = 0;
        bool trimNextGap = false;
        for (int i = 0; i < features.Count; i++)
        {
            var f = features[i];
            if (f.Start < 0) throw new ArgumentException($"Feature {i} ('{f.Text}') has no position in the text.");
            var gap = text[at..f.Start];
            if (trimNextGap) gap = gap.TrimStart();
            sb.Append(gap);
            trimNextGap = false;
            if (coalition[i]) sb.Append(text, f.Start, f.End - f.Start);
            else if (replacement is not null) sb.Append(replacement);
            else trimNextGap = sb.Length == 0 || char.IsWhiteSpace(sb[^1]);
            at = f.End;
        }
        var tail = trimNextGap ? text[at..].TrimStart() : text[at..];
        sb.Append(tail);
        // a dropped last word must not leave the space before it dangling
        if (trimNextGap && tail.Length == 0) while (sb.Length > 0 && char.IsWhiteSpace(sb[^1])) sb.Length--;
        return sb.ToString();
    }

    /// <summary>
    /// A coalition value function from a scorer of whole texts: each coalition becomes its masked text, and the
    /// scorer gets them in one batch.
    /// </summary>
    public static CoalitionValue OverTexts(this FeatureSet features, Func<IReadOnlyList<string>, double[]> scoreTexts,
        string? replacement = null) =>
        coalitions => scoreTexts(coalitions.Select(c => Apply(features, c, replacement)).ToArray());
}
