using FineTune.Kit.Text;

namespace FineTune.Kit.Prompting;

/// <summary>A sparse vector: sorted term ids and their weights.</summary>
public sealed record SparseVector(int[] Indices, double[] Values)
{
    /// <summary>Dot product by merging the two sorted index lists.</summary>
    public double Dot(SparseVector other)
    {
        double s = 0;
        int i = 0, j = 0;
        while (i < Indices.Length && j < other.Indices.Length)
        {
            if (Indices[i] == other.Indices[j]) s += Values[i++] * other.Values[j++];
            else if (Indices[i] < other.Indices[j]) i++;
            else j++;
        }
        return s;
    }
}

/// <summary>
/// TF-IDF with the usual smoothing: words are lower-cased runs of letters and digits; tf is the raw count in the text;
/// idf(t) = ln((1 + n) / (1 + df(t))) + 1 where n is the number of fitted documents and df(t) how many contain t;
/// each vector is scaled to unit L2 norm, so cosine similarity is a dot product. Words unseen at fit time are ignored.
/// </summary>
public sealed class TfIdfVectorizer
{
    private readonly Dictionary<string, int> _vocabulary = new(StringComparer.Ordinal);
    private double[] _idf = [];

    /// <summary>Learns vocabulary and idf from the documents.</summary>
    public static TfIdfVectorizer Fit(IReadOnlyList<string> documents)
    {
        var v = new TfIdfVectorizer();
        var df = new List<int>();
        foreach (var doc in documents)
            foreach (var word in TextNormalizer.Words(doc).Distinct(StringComparer.Ordinal))
            {
                if (!v._vocabulary.TryGetValue(word, out var id))
                {
                    id = v._vocabulary.Count;
                    v._vocabulary[word] = id;
                    df.Add(0);
                }
                df[id]++;
            }
        var n = documents.Count;
        v._idf = df.Select(d => Math.Log((1.0 + n) / (1.0 + d)) + 1).ToArray();
        return v;
    }

    /// <summary>Vocabulary size.</summary>
    public int VocabularySize => _vocabulary.Count;

    /// <summary>The idf of a word, or null if it was not seen at fit time.</summary>
    public double? Idf(string word) => _vocabulary.TryGetValue(word, out var id) ? _idf[id] : null;

    /// <summary>The unit-length TF-IDF vector of a text (empty when it has no known word).</summary>
    public SparseVector Transform(string text)
    {
        var tf = new SortedDictionary<int, int>();
        foreach (var word in TextNormalizer.Words(text))
            if (_vocabulary.TryGetValue(word, out var id)) tf[id] = tf.GetValueOrDefault(id) + 1;
        var indices = tf.Keys.ToArray();
        var values = tf.Select(p => p.Value * _idf[p.Key]).ToArray();
        var norm = Math.Sqrt(values.Sum(x => x * x));
        if (norm > 0) for (var i = 0; i < values.Length; i++) values[i] /= norm;
        return new SparseVector(indices, values);
    }
}

/// <summary>
/// A pool of texts searchable by TF-IDF cosine similarity (the vectoriser is fitted on the pool). A query that shares
/// no word with the pool has similarity 0 to everything and gets the first pool items.
/// </summary>
public sealed class TfIdfIndex : ISimilarityIndex
{
    private readonly SparseVector[] _vectors;

    /// <summary>Fits TF-IDF on the pool and vectorises it.</summary>
    public TfIdfIndex(IReadOnlyList<string> pool)
    {
        Vectorizer = TfIdfVectorizer.Fit(pool);
        _vectors = pool.Select(Vectorizer.Transform).ToArray();
    }

    /// <summary>The fitted vectoriser.</summary>
    public TfIdfVectorizer Vectorizer { get; }

    /// <inheritdoc />
    public int Count => _vectors.Length;

    /// <inheritdoc />
    public IReadOnlyList<Neighbour> Nearest(string query, int k, Func<int, bool>? exclude = null)
    {
        var q = Vectorizer.Transform(query);
        return CosineSearch.TopK(_vectors.Length, i => _vectors[i].Dot(q), k, exclude);
    }
}
