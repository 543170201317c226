using System.Collections.Concurrent;
using System.Globalization;

namespace FineTune.Kit.Text;

/// <summary>
/// Characters a tokenizer could not encode at all: not in its vocabulary, no byte tokens to spell them (no
/// <c>byte_fallback</c>) and no unknown token. Hugging Face's tokenizers drop them without a word, and the kit drops
/// them too, so that ids stay identical; but it counts them here (process-wide), and every <c>ftk</c> command that
/// dropped any says so on standard error. Check <see cref="Count"/> before and after encoding to find out in code.
/// </summary>
public static class UnencodableCharacters
{
    private const int MaxExamples = 8;
    private static long _count;
    private static readonly ConcurrentDictionary<string, byte> ExamplesSeen = new(StringComparer.Ordinal);
    private static readonly ConcurrentQueue<string> ExampleOrder = new();

    /// <summary>How many characters have been dropped in this process so far.</summary>
    public static long Count => Interlocked.Read(ref _count);

    /// <summary>The first few distinct characters dropped, in the order met.</summary>
    public static IReadOnlyList<string> Examples => ExampleOrder.ToArray();

    internal static void Record(string character)
    {
        Interlocked.Increment(ref _count);
        if (ExamplesSeen.Count < MaxExamples && ExamplesSeen.TryAdd(character, 0)) ExampleOrder.Enqueue(character);
    }

    /// <summary>
    /// A one-line warning for the characters dropped since <paramref name="countBefore"/> (a value of <see cref="Count"/>),
    /// or null when there were none.
    /// </summary>
    public static string? Describe(long countBefore)
    {
        long dropped = Count - countBefore;
        if (dropped <= 0) return null;
        var examples = string.Join(", ", Examples.Select(c => $"'{c}' (U+{char.ConvertToUtf32(c, 0).ToString("X4", CultureInfo.InvariantCulture)})"));
        return $"{dropped} character{(dropped == 1 ? "" : "s")} of the input had no token (not in the vocabulary, no byte fallback, " +
               $"no unknown token) and {(dropped == 1 ? "was" : "were")} dropped, as Hugging Face's tokenizers drop them; seen: {examples}";
    }
}
