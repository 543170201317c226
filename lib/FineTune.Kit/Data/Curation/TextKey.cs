using System.Text;

namespace FineTune.Kit.Data.Curation;

/// <summary>
/// The normalised form two texts must share to count as the same text: NFKC, lower case, white space collapsed to
/// single spaces and trimmed. "Hello  World" and "hello world" have the same key.
/// </summary>
public static class TextKey
{
    /// <summary>The key of a text under a chosen normalisation (see <see cref="TextNormalization"/>).</summary>
    public static string Of(string text, TextNormalization normalization) => normalization.Apply(text);

    /// <summary>The key of a text.</summary>
    public static string Of(string text)
    {
        var s = (text.IsNormalized(NormalizationForm.FormKC) ? text : text.Normalize(NormalizationForm.FormKC)).ToLowerInvariant();
        var sb = new StringBuilder(s.Length);
        bool space = false;
        foreach (var c in s)
        {
            if (char.IsWhiteSpace(c)) { space = sb.Length > 0; continue; }
            if (space) sb.Append(' ');
            space = false;
            sb.Append(c);
        }
        return sb.ToString();
    }
}
