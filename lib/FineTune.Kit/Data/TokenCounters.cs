namespace FineTune.Kit.Data;

/// <summary>
/// Token counters for when no real tokenizer is at hand. Any <c>Func&lt;string,int&gt;</c> works where a counter is
/// asked for, e.g. <c>s =&gt; tokenizer.CountTokens(s)</c> of Microsoft.ML.Tokenizers.
/// </summary>
public static class TokenCounters
{
    /// <summary>Number of white-space separated words (underestimates subword tokenizers by roughly a third).</summary>
    public static readonly Func<string, int> Whitespace = CountWords;

    /// <summary>Characters / 4, rounded up: the usual rule of thumb for English with BPE tokenizers.</summary>
    public static readonly Func<string, int> CharsOver4 = s => (s.Length + 3) / 4;

    private static int CountWords(string s)
    {
        int n = 0;
        bool inWord = false;
        foreach (var c in s)
        {
            if (char.IsWhiteSpace(c)) inWord = false;
            else if (!inWord) { inWord = true; n++; }
        }
        return n;
    }
}
