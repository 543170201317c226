using FineTune.Kit.Data;

namespace FineTune.Kit.Prompting;

/// <summary>Chooses the demonstration examples that go into the prompt for one query.</summary>
public interface IFewShotSelector
{
    /// <summary>Up to <paramref name="k"/> examples for <paramref name="query"/>, in the order they should appear in the prompt.</summary>
    IReadOnlyList<LabeledExample> Select(string query, int k);
}

/// <summary>Ready-made selectors.</summary>
public static class FewShot
{
    /// <summary>No examples: zero-shot prompting.</summary>
    public static IFewShotSelector None { get; } = new FixedShots([]);

    /// <summary>The same examples for every query.</summary>
    public static IFewShotSelector Fixed(IReadOnlyList<LabeledExample> examples) => new FixedShots(examples);

    /// <summary>k examples drawn at random per query from the pool, reproducibly from the seed.</summary>
    public static IFewShotSelector Random(IReadOnlyList<LabeledExample> pool, int seed) => new RandomShots(pool, seed);

    /// <summary>The k pool examples nearest to the query by TF-IDF cosine similarity.</summary>
    public static SimilarShots ByTfIdf(IReadOnlyList<LabeledExample> pool) => new(pool, new TfIdfIndex(pool.Select(e => e.Text).ToArray()));

    /// <summary>The k pool examples nearest to the query by cosine similarity of embeddings (e.g. mean-pooled hidden states).</summary>
    public static SimilarShots ByEmbedding(IReadOnlyList<LabeledExample> pool, Embedder embedder, int batchSize = 32) =>
        new(pool, new EmbeddingIndex(pool.Select(e => e.Text).ToArray(), embedder, batchSize));
}

/// <summary>The same examples for every query (the first k of them).</summary>
public sealed class FixedShots(IReadOnlyList<LabeledExample> examples) : IFewShotSelector
{
    /// <inheritdoc />
    public IReadOnlyList<LabeledExample> Select(string query, int k) => examples.Take(k).ToArray();
}

/// <summary>
/// k distinct examples drawn uniformly per query. The draw depends only on the seed and the query text, so a query gets
/// the same shots whatever order the test set is run in. The query itself is never drawn.
/// </summary>
public sealed class RandomShots(IReadOnlyList<LabeledExample> pool, int seed) : IFewShotSelector
{
    /// <inheritdoc />
    public IReadOnlyList<LabeledExample> Select(string query, int k)
    {
        var candidates = Enumerable.Range(0, pool.Count).Where(i => !string.Equals(pool[i].Text, query, StringComparison.Ordinal)).ToArray();
        var rng = new Random(HashCode(seed, query));
        // partial Fisher-Yates: the first k slots become a uniform sample without replacement
        var take = Math.Min(k, candidates.Length);
        for (var i = 0; i < take; i++)
        {
            var j = rng.Next(i, candidates.Length);
            (candidates[i], candidates[j]) = (candidates[j], candidates[i]);
        }
        return candidates.Take(take).Select(i => pool[i]).ToArray();
    }

    // string.GetHashCode is randomised per process; FNV-1a is stable across runs
    private static int HashCode(int seed, string text)
    {
        unchecked
        {
            var h = 2166136261u ^ (uint)seed;
            foreach (var ch in text) { h ^= ch; h *= 16777619u; }
            return (int)h;
        }
    }
}
