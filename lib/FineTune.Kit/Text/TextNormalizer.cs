using System.Text;

namespace FineTune.Kit.Text;

/// <summary>Text normalisation and tokenisation used by the generation metrics and TF-IDF few-shot selection.</summary>
public static class TextNormalizer
{
    private static readonly HashSet<string> Articles = new(StringComparer.Ordinal) { "a", "an", "the" };

    /// <summary>
    /// SQuAD answer normalisation: lower-case, drop punctuation, drop the articles a/an/the, collapse whitespace.
    /// Returns the remaining tokens.
    /// </summary>
    public static IReadOnlyList<string> SquadTokens(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var ch in text.ToLowerInvariant())
            if (!char.IsPunctuation(ch) && !char.IsSymbol(ch)) sb.Append(ch);
        return sb.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Where(t => !Articles.Contains(t)).ToArray();
    }

    /// <summary>The SQuAD-normalised text (tokens joined by single spaces).</summary>
    public static string Squad(string text) => string.Join(' ', SquadTokens(text));

    /// <summary>Lower-cased runs of letters and digits; everything else separates tokens (ROUGE's default tokeniser).</summary>
    public static IReadOnlyList<string> Words(string text)
    {
        var tokens = new List<string>();
        var sb = new StringBuilder();
        foreach (var ch in text)
        {
            if (char.IsLetterOrDigit(ch)) sb.Append(char.ToLowerInvariant(ch));
            else if (sb.Length > 0) { tokens.Add(sb.ToString()); sb.Clear(); }
        }
        if (sb.Length > 0) tokens.Add(sb.ToString());
        return tokens;
    }

    /// <summary>Whitespace tokens, case kept (BLEU's default: pre-tokenise text yourself for anything fancier).</summary>
    public static IReadOnlyList<string> Whitespace(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
}
