using System.Globalization;
using System.Text;

namespace FineTune.Kit.Text;

/// <summary>One entry of tokenizer.json's "added_tokens", with the flags that change how it is found in text.</summary>
/// <param name="Content">The text that stands for the token.</param>
/// <param name="Id">Its id.</param>
/// <param name="Special">Whether decoding with skip-special drops it.</param>
/// <param name="SingleWord">Only matched when no word character touches it on either side.</param>
/// <param name="LStrip">Whitespace just before it is swallowed by the match.</param>
/// <param name="RStrip">Whitespace just after it is swallowed by the match.</param>
/// <param name="Normalized">Matched in the normalized text (its content normalized too) rather than the raw text.</param>
internal sealed record AddedTokenSpec(string Content, int Id, bool Special, bool SingleWord, bool LStrip, bool RStrip, bool Normalized);

/// <summary>
/// Finds added tokens in text the way the reference implementation does: leftmost-longest matches, those flagged
/// single_word dropped where a word character touches them, and lstrip/rstrip extending a match over the whitespace
/// beside it (that whitespace is not tokenized).
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly Dictionary<char, List<(string Pattern, AddedTokenSpec Token)>> byFirstChar = new();

    /// <summary>A matcher over the tokens, each found by its pattern (its content, or its normalized content).</summary>
    public AddedTokenMatcher(IEnumerable<(string Pattern, AddedTokenSpec Token)> tokens)
    {
        foreach (var (pattern, token) in tokens)
        {
            if (pattern.Length == 0) continue;
            if (!byFirstChar.TryGetValue(pattern[0], out var list)) byFirstChar[pattern[0]] = list = [];
            list.Add((pattern, token));
        }
        foreach (var list in byFirstChar.Values) list.Sort((a, b) => b.Pattern.Length.CompareTo(a.Pattern.Length));
    }

    /// <summary>Whether there is nothing to find.</summary>
    public bool IsEmpty => byFirstChar.Count == 0;

    /// <summary>The text cut into runs [Start, End): a token where one matched (including swallowed whitespace), null between.</summary>
    public List<(AddedTokenSpec? Token, int Start, int End)> Split(string text)
    {
        var pieces = new List<(AddedTokenSpec?, int, int)>();
        var done = 0;       // everything before this is in pieces
        var i = 0;
        while (i < text.Length)
        {
            var found = Longest(text, i);
            if (found is null) { i++; continue; }
            var (pattern, token) = found.Value;
            var start = i;
            var stop = i + pattern.Length;
            i = stop; // matches never overlap, even when one is then discarded
            if (start < done) continue;
            if (token.SingleWord && (EndsWithWord(text, start) || StartsWithWord(text, stop))) continue;
            if (token.LStrip)
                while (start > done && char.IsWhiteSpace(text[start - 1])) start--;
            if (token.RStrip)
                while (stop < text.Length && char.IsWhiteSpace(text[stop])) stop++;
            if (done < start) pieces.Add((null, done, start));
            pieces.Add((token, start, stop));
            done = stop;
            i = Math.Max(i, stop);
        }
        if (done < text.Length) pieces.Add((null, done, text.Length));
        return pieces;
    }

    private (string Pattern, AddedTokenSpec Token)? Longest(string text, int at)
    {
        if (!byFirstChar.TryGetValue(text[at], out var candidates)) return null;
        foreach (var c in candidates)
            if (at + c.Pattern.Length <= text.Length && string.CompareOrdinal(text, at, c.Pattern, 0, c.Pattern.Length) == 0) return c;
        return null;
    }

    // A word character as the reference's \w: letters, marks, decimal digits, connector punctuation.
    private static bool IsWord(Rune r) =>
        Rune.IsLetterOrDigit(r) || Rune.GetUnicodeCategory(r) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
            or UnicodeCategory.EnclosingMark or UnicodeCategory.ConnectorPunctuation or UnicodeCategory.LetterNumber;

    private static bool EndsWithWord(string text, int at) =>
        at > 0 && Rune.DecodeLastFromUtf16(text.AsSpan(0, at), out var r, out _) == System.Buffers.OperationStatus.Done && IsWord(r);

    private static bool StartsWithWord(string text, int at) =>
        at < text.Length && Rune.DecodeFromUtf16(text.AsSpan(at), out var r, out _) == System.Buffers.OperationStatus.Done && IsWord(r);
}
