using System.Text;

namespace FineTune.Kit.Data.Curation;

/// <summary>
/// How texts are reduced before they are compared for duplicates (the exact-duplicate key and the near-duplicate
/// shingles). Texts are always NFKC-normalised; the switches add the steps established dedup pipelines use, so that a
/// ticket and the same ticket with its commas removed or its full stop changed to "!" count as one text.
/// </summary>
/// <param name="LowerCase">Fold to lower case.</param>
/// <param name="RemovePunctuation">Delete Unicode punctuation (<c>, . ! ? ' " - ( )</c> …); symbols such as <c>€ + =</c> stay.</param>
/// <param name="CollapseWhitespace">Turn every run of white space into one space and trim the ends.</param>
/// <param name="MaskDigits">Replace every digit with 0, so texts that differ only in numbers (order ids, dates) match.</param>
public sealed record TextNormalization(bool LowerCase = true, bool RemovePunctuation = true, bool CollapseWhitespace = true, bool MaskDigits = false)
{
    /// <summary>The default: lower case, punctuation removed, white space collapsed, digits kept.</summary>
    public static TextNormalization Default { get; } = new();

    /// <summary>NFKC only: texts must match character for character otherwise.</summary>
    public static TextNormalization None { get; } = new(false, false, false, false);

    /// <summary>The normalised text.</summary>
    public string Apply(string text)
    {
        var s = text.IsNormalized(NormalizationForm.FormKC) ? text : text.Normalize(NormalizationForm.FormKC);
        if (LowerCase) s = s.ToLowerInvariant();
        var sb = new StringBuilder(s.Length);
        bool space = false;
        foreach (var c in s)
        {
            if (RemovePunctuation && char.IsPunctuation(c)) continue;
            if (CollapseWhitespace && char.IsWhiteSpace(c)) { space = sb.Length > 0; continue; }
            if (space) sb.Append(' ');
            space = false;
            sb.Append(MaskDigits && char.IsDigit(c) ? '0' : c);
        }
        return sb.ToString();
    }

    /// <summary>The steps in words, for reports: "NFKC, lower case, punctuation removed, white space collapsed".</summary>
    public string Describe()
    {
        var steps = new List<string> { "NFKC" };
        if (LowerCase) steps.Add("lower case");
        if (RemovePunctuation) steps.Add("punctuation removed");
        if (CollapseWhitespace) steps.Add("white space collapsed");
        if (MaskDigits) steps.Add("digits masked as 0");
        return string.Join(", ", steps);
    }

    /// <inheritdoc/>
    public override string ToString() => Describe();
}
