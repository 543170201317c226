using System.Text;
using System.Text.RegularExpressions;

namespace FineTune.Kit.Text;

/// <summary>
/// GPT-2 style byte-level alphabet: every UTF-8 byte maps to one printable character, so any text becomes a string
/// over 256 symbols and decodes back exactly (a space is 'Ġ', a newline 'Ċ').
/// </summary>
public static class ByteLevel
{
    /// <summary>The GPT-2 pre-tokenizer pattern (contractions, letters, digits, other symbols, whitespace runs).</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>The compiled GPT-2 pre-tokenizer regex.</summary>
    public static readonly Regex Gpt2Regex = new(Gpt2Pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);

    private static readonly char[] byteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> charToByte =
        Enumerable.Range(0, 256).ToDictionary(b => byteToChar[b], b => (byte)b);

    /// <summary>The character that stands for a byte.</summary>
    public static char CharOf(byte b) => byteToChar[b];

    /// <summary>The 256 alphabet characters in byte order.</summary>
    public static IReadOnlyList<char> Alphabet => byteToChar;

    /// <summary>Maps a text to its byte-level form (UTF-8 bytes, each shown as its alphabet character).</summary>
    public static string Encode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var chars = new char[bytes.Length];
        for (var i = 0; i < bytes.Length; i++) chars[i] = byteToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>Appends the raw bytes a byte-level token stands for; false if it has a character outside the alphabet.</summary>
    public static bool TryAppendBytes(string token, List<byte> into)
    {
        foreach (var c in token)
        {
            if (!charToByte.TryGetValue(c, out var b)) return false;
            into.Add(b);
        }
        return true;
    }

    /// <summary>Splits text into GPT-2 pre-tokens (the pieces merges never cross).</summary>
    public static IEnumerable<string> PreTokenize(string text)
    {
        for (var m = Gpt2Regex.Match(text); m.Success; m = m.NextMatch()) yield return m.Value;
    }

    // Printable Latin-1 bytes stand for themselves; the others (control, space, soft hyphen...) are shifted to 256+n,
    // which keeps every token visibly printable in vocab files. This is the mapping GPT-2 published.
    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var shifted = 0;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)(256 + shifted++);
        }
        return map;
    }
}
