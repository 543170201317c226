namespace FineTune.Kit.Prompting;

/// <summary>A pool of texts searchable by cosine similarity of embeddings from a user <see cref="Embedder"/>.</summary>
public sealed class EmbeddingIndex : ISimilarityIndex
{
    private readonly Embedder _embedder;
    private readonly float[][] _vectors;

    /// <summary>Embeds the pool in batches and normalises the vectors.</summary>
    public EmbeddingIndex(IReadOnlyList<string> pool, Embedder embedder, int batchSize = 32)
    {
        if (batchSize < 1) throw new ArgumentException($"batch size must be positive, got {batchSize}");
        _embedder = embedder;
        var vectors = new List<float[]>(pool.Count);
        for (var start = 0; start < pool.Count; start += batchSize)
        {
            var batch = pool.Skip(start).Take(batchSize).ToArray();
            var embedded = embedder(batch);
            if (embedded.Length != batch.Length)
                throw new ArgumentException($"the embedder returned {embedded.Length} vectors for a batch of {batch.Length} texts");
            vectors.AddRange(embedded.Select(CosineSearch.Normalize));
        }
        _vectors = vectors.ToArray();
        if (_vectors.Any(v => v.Length != _vectors[0].Length))
            throw new ArgumentException("the embedder returned vectors of different lengths");
    }

    /// <summary>Builds the index from vectors already computed (they are normalised here).</summary>
    public EmbeddingIndex(IReadOnlyList<float[]> vectors, Embedder queryEmbedder)
    {
        _embedder = queryEmbedder;
        _vectors = vectors.Select(CosineSearch.Normalize).ToArray();
        if (_vectors.Any(v => v.Length != _vectors[0].Length))
            throw new ArgumentException("the pool vectors have different lengths");
    }

    /// <inheritdoc />
    public int Count => _vectors.Length;

    /// <inheritdoc />
    public IReadOnlyList<Neighbour> Nearest(string query, int k, Func<int, bool>? exclude = null) =>
        CosineSearch.TopK(_vectors, _embedder([query])[0], k, exclude);
}
