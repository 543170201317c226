namespace FineTune.Kit.Text;

/// <summary>Cuts text around special tokens written in it, so "&lt;|im_start|&gt;" becomes one id instead of a dozen.</summary>
internal static class SpecialTokenSplitter
{
    /// <summary>Pieces of the text in order; a piece is special when it is exactly one of the tokens (longest match wins).</summary>
    public static IEnumerable<(string Piece, bool IsSpecial)> Split(string text, IReadOnlyCollection<string> specialTokens)
    {
        if (specialTokens.Count == 0 || text.Length == 0)
        {
            if (text.Length > 0) yield return (text, false);
            yield break;
        }
        var start = 0;
        var i = 0;
        while (i < text.Length)
        {
            string? match = null;
            foreach (var s in specialTokens)
                if (s.Length > 0 && (match is null || s.Length > match.Length) && string.CompareOrdinal(text, i, s, 0, s.Length) == 0)
                    match = s;
            if (match is null) { i++; continue; }
            if (i > start) yield return (text[start..i], false);
            yield return (match, true);
            i += match.Length;
            start = i;
        }
        if (start < text.Length) yield return (text[start..], false);
    }
}
