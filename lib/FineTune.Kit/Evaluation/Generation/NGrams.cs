namespace FineTune.Kit.Evaluation.Generation;

/// <summary>n-gram multisets over token lists.</summary>
internal static class NGrams
{
    /// <summary>Counts of every n-gram (tokens joined by a separator that cannot occur inside a token).</summary>
    public static Dictionary<string, int> Count(IReadOnlyList<string> tokens, int n)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i + n <= tokens.Count; i++)
        {
            var key = n == 1 ? tokens[i] : string.Join('\u0001', tokens.Skip(i).Take(n));
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        return counts;
    }

    /// <summary>Size of the multiset intersection: Σ min(count_a, count_b).</summary>
    public static int OverlapCount(Dictionary<string, int> a, Dictionary<string, int> b) =>
        a.Sum(kv => Math.Min(kv.Value, b.GetValueOrDefault(kv.Key)));
}
