using System.Text;

namespace FineTune.Kit.Text;

/// <summary>
/// A piece of text being normalized, with, for every character, the range of the original input it came from, so
/// tokens found in the normalized text can be mapped back to the characters a user wrote.
/// </summary>
internal sealed class AlignedText
{
    private AlignedText(string text, int[] starts, int[] ends)
    {
        Text = text;
        Starts = starts;
        Ends = ends;
    }

    /// <summary>The current (normalized) characters.</summary>
    public string Text { get; }

    /// <summary>Where each character begins in the original input.</summary>
    public int[] Starts { get; }

    /// <summary>Where each character ends in the original input.</summary>
    public int[] Ends { get; }

    /// <summary>Where this piece begins in the original input (its first character's start, or the point it sits at).</summary>
    public int OriginalStart => Starts.Length > 0 ? Starts[0] : point;

    private int point;

    /// <summary>Characters [from, to) of the original input, each aligned to itself.</summary>
    public static AlignedText Of(string original, int from, int to)
    {
        var n = to - from;
        var starts = new int[n];
        var ends = new int[n];
        for (var i = 0; i < n; i++) { starts[i] = from + i; ends[i] = from + i + 1; }
        return new AlignedText(original[from..to], starts, ends) { point = from };
    }

    /// <summary>Characters [from, to) of this text, keeping their alignment.</summary>
    public AlignedText Slice(int from, int to) =>
        new(Text[from..to], Starts[from..to], Ends[from..to]) { point = from < Starts.Length ? Starts[from] : End };

    /// <summary>The original range [start, end) that characters [from, to) of this text cover.</summary>
    public (int Start, int End) OriginalRange(int from, int to)
    {
        if (to <= from) return (from < Starts.Length ? Starts[from] : End, from < Starts.Length ? Starts[from] : End);
        var start = int.MaxValue;
        var end = int.MinValue;
        for (var i = from; i < to; i++) { start = Math.Min(start, Starts[i]); end = Math.Max(end, Ends[i]); }
        return (start, end);
    }

    private int End => Ends.Length > 0 ? Ends[^1] : point;

    /// <summary>
    /// Replaces the given non-overlapping ranges [start, start+length), in order, by <paramref name="content"/>; the new
    /// characters all stand for the original range of what they replace.
    /// </summary>
    public AlignedText Replace(IEnumerable<(int Start, int Length)> matches, string content)
    {
        var text = new StringBuilder(Text.Length);
        var starts = new List<int>(Starts.Length);
        var ends = new List<int>(Ends.Length);
        var at = 0;
        foreach (var (start, length) in matches)
        {
            for (; at < start; at++) { text.Append(Text[at]); starts.Add(Starts[at]); ends.Add(Ends[at]); }
            var (from, to) = OriginalRange(start, start + length);
            foreach (var c in content) { text.Append(c); starts.Add(from); ends.Add(to); }
            at = start + length;
        }
        for (; at < Text.Length; at++) { text.Append(Text[at]); starts.Add(Starts[at]); ends.Add(Ends[at]); }
        return new AlignedText(text.ToString(), starts.ToArray(), ends.ToArray()) { point = OriginalStart };
    }

    /// <summary>Every occurrence of <paramref name="find"/> replaced by <paramref name="content"/>.</summary>
    public AlignedText Replace(string find, string content)
    {
        if (find.Length == 0 || !Text.Contains(find, StringComparison.Ordinal)) return this;
        var matches = new List<(int, int)>();
        for (var i = Text.IndexOf(find, StringComparison.Ordinal); i >= 0; i = Text.IndexOf(find, i + find.Length, StringComparison.Ordinal))
            matches.Add((i, find.Length));
        return Replace(matches, content);
    }

    /// <summary><paramref name="prefix"/> put in front; its characters stand for an empty range where the text begins.</summary>
    public AlignedText Prepend(string prefix)
    {
        var at = OriginalStart;
        var starts = new int[prefix.Length + Starts.Length];
        var ends = new int[starts.Length];
        for (var i = 0; i < prefix.Length; i++) { starts[i] = at; ends[i] = at; }
        Starts.CopyTo(starts, prefix.Length);
        Ends.CopyTo(ends, prefix.Length);
        return new AlignedText(prefix + Text, starts, ends) { point = at };
    }
}
