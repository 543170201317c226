namespace FineTune.Kit.Data.Curation;

/// <summary>
/// Locality-sensitive hashing over MinHash signatures ("banding"): the signature is cut into <c>bands</c> bands of
/// <c>rows</c> values; two texts become a candidate pair when any band matches exactly. A pair with Jaccard s is a
/// candidate with probability 1 - (1 - s^rows)^bands, an S-curve that is steep around (1/bands)^(1/rows).
/// </summary>
public sealed class LshIndex
{
    // per band: bucket hash -> last item added to it, and item -> previous item of its bucket (-1 ends the chain);
    // a linked chain instead of a list per bucket because almost every bucket holds a single item
    private readonly Dictionary<ulong, int>[] _last;
    private readonly List<int>[] _previous;

    /// <summary>Creates an index with the given banding.</summary>
    public LshIndex(int bands, int rows)
    {
        if (bands < 1 || rows < 1) throw new ArgumentException($"LSH needs bands >= 1 and rows >= 1, got {bands}x{rows}");
        Bands = bands;
        Rows = rows;
        _last = Enumerable.Range(0, bands).Select(_ => new Dictionary<ulong, int>()).ToArray();
        _previous = Enumerable.Range(0, bands).Select(_ => new List<int>()).ToArray();
    }

    /// <summary>Number of bands.</summary>
    public int Bands { get; }

    /// <summary>Signature values per band.</summary>
    public int Rows { get; }

    /// <summary>Probability that a pair with Jaccard <paramref name="s"/> becomes a candidate.</summary>
    public static double CandidateProbability(double s, int bands, int rows) => 1 - Math.Pow(1 - Math.Pow(s, rows), bands);

    /// <summary>
    /// Chooses the banding for a threshold: the most rows per band (fewest false candidates) whose candidate
    /// probability at the threshold itself is still at least <paramref name="recallAtThreshold"/>.
    /// </summary>
    public static (int Bands, int Rows) ChooseBanding(double threshold, int permutations, double recallAtThreshold = 0.99)
    {
        for (int r = permutations; r >= 1; r--)
        {
            int b = permutations / r;
            if (CandidateProbability(threshold, b, r) >= recallAtThreshold) return (b, r);
        }
        return (permutations, 1);
    }

    /// <summary>Number of items added.</summary>
    public int Count => _previous[0].Count;

    /// <summary>
    /// Adds the next item (ids are 0, 1, 2, ... in order of adding) and calls <paramref name="candidate"/> with every
    /// earlier item that shares a band with it (an item sharing several bands is reported once per band).
    /// </summary>
    public void Add(ulong[] signature, Action<int>? candidate = null)
    {
        if (signature.Length < Bands * Rows) throw new ArgumentException($"signature of {signature.Length} values is shorter than {Bands}x{Rows}");
        int id = Count;
        for (int band = 0; band < Bands; band++)
        {
            ulong h = (ulong)band * 0x9E3779B97F4A7C15UL;
            for (int r = 0; r < Rows; r++) h = Shingler.Mix(h ^ signature[band * Rows + r]);
            var last = _last[band];
            int previous = last.TryGetValue(h, out var p) ? p : -1;
            if (candidate is not null)
                for (int other = previous; other >= 0; other = _previous[band][other]) candidate(other);
            _previous[band].Add(previous);
            last[h] = id;
        }
    }
}

/// <summary>Disjoint sets with path halving and union by size, for grouping duplicate pairs into clusters.</summary>
public sealed class UnionFind
{
    private readonly int[] _parent;
    private readonly int[] _size;

    /// <summary>Creates <paramref name="n"/> singleton sets.</summary>
    public UnionFind(int n)
    {
        _parent = Enumerable.Range(0, n).ToArray();
        _size = Enumerable.Repeat(1, n).ToArray();
    }

    /// <summary>The representative of x's set.</summary>
    public int Find(int x)
    {
        while (_parent[x] != x) x = _parent[x] = _parent[_parent[x]];
        return x;
    }

    /// <summary>Merges the sets of a and b; false if they were already one.</summary>
    public bool Union(int a, int b)
    {
        a = Find(a);
        b = Find(b);
        if (a == b) return false;
        if (_size[a] < _size[b]) (a, b) = (b, a);
        _parent[b] = a;
        _size[a] += _size[b];
        return true;
    }
}
