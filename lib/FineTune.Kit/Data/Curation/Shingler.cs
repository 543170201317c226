using System.Globalization;

namespace FineTune.Kit.Data.Curation;

/// <summary>What a shingle is made of.</summary>
public enum ShingleUnit
{
    /// <summary>Runs of characters (robust to small edits inside words; good for short texts).</summary>
    Char,

    /// <summary>Runs of words (cheaper, coarser; good for long documents).</summary>
    Word,
}

/// <summary>
/// Cuts a text into overlapping n-grams ("shingles") and hashes each to 64 bits. The text is first normalised
/// (<see cref="TextNormalization"/>; by default lower case, punctuation removed, white space collapsed), so case,
/// punctuation and spacing do not matter. A text shorter than one shingle gives a single shingle of the whole text.
/// </summary>
public sealed class Shingler(int size = 5, ShingleUnit unit = ShingleUnit.Char, TextNormalization? normalization = null)
{
    /// <summary>How texts are normalised before shingling.</summary>
    public TextNormalization Normalization { get; } = normalization ?? TextNormalization.Default;

    /// <summary>Characters or words per shingle.</summary>
    public int Size { get; } = size > 0 ? size : throw new ArgumentException($"shingle size must be positive, got {size}");

    /// <summary>Characters or words.</summary>
    public ShingleUnit Unit { get; } = unit;

    /// <summary>The distinct shingle hashes of a text, sorted ascending.</summary>
    public ulong[] Shingles(string text)
    {
        var key = Normalization.Apply(text);
        var set = new HashSet<ulong>();
        if (Unit == ShingleUnit.Char)
        {
            if (key.Length <= Size) set.Add(Hash(key.AsSpan()));
            else
                for (int i = 0; i + Size <= key.Length; i++) set.Add(Hash(key.AsSpan(i, Size)));
        }
        else
        {
            var words = key.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var hashes = words.Select(w => Hash(w.AsSpan())).ToArray();
            if (hashes.Length <= Size) set.Add(Combine(hashes, 0, hashes.Length));
            else
                for (int i = 0; i + Size <= hashes.Length; i++) set.Add(Combine(hashes, i, Size));
        }
        var result = set.ToArray();
        Array.Sort(result);
        return result;
    }

    /// <summary>Exact Jaccard similarity of two sorted shingle sets: |A ∩ B| / |A ∪ B|.</summary>
    public static double Jaccard(ulong[] a, ulong[] b)
    {
        if (a.Length == 0 && b.Length == 0) return 1;
        int i = 0, j = 0, common = 0;
        while (i < a.Length && j < b.Length)
        {
            if (a[i] == b[j]) { common++; i++; j++; }
            else if (a[i] < b[j]) i++;
            else j++;
        }
        return (double)common / (a.Length + b.Length - common);
    }

    // FNV-1a over UTF-16 code units, then a 64-bit finaliser so that nearby strings spread over all bits
    private static ulong Hash(ReadOnlySpan<char> s)
    {
        ulong h = 14695981039346656037UL;
        foreach (var c in s) { h ^= c; h *= 1099511628211UL; }
        return Mix(h);
    }

    private static ulong Combine(ulong[] hashes, int start, int count)
    {
        ulong h = 0x9E3779B97F4A7C15UL;
        for (int i = start; i < start + count; i++) h = Mix(h ^ hashes[i]) + 0x632BE59BD9B4E019UL;
        return h;
    }

    /// <summary>The splitmix64 finaliser: a bijective 64-bit mixer.</summary>
    internal static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
