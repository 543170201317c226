namespace FineTune.Kit.Prompting;

/// <summary>A pool item found by a similarity search: its index in the pool and its cosine similarity to the query.</summary>
public readonly record struct Neighbour(int Index, double Similarity);

/// <summary>A searchable pool of texts.</summary>
public interface ISimilarityIndex
{
    /// <summary>Number of items in the pool.</summary>
    int Count { get; }

    /// <summary>
    /// The <paramref name="k"/> pool items most similar to the query, most similar first (ties: lower index first),
    /// skipping indices for which <paramref name="exclude"/> returns true.
    /// </summary>
    IReadOnlyList<Neighbour> Nearest(string query, int k, Func<int, bool>? exclude = null);
}
