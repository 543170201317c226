namespace FineTune.Kit.Prompting;

/// <summary>Exact cosine top-k over dense vectors (brute force: exact, and fast enough for few-shot pools of thousands).</summary>
public static class CosineSearch
{
    /// <summary>A copy of the vector scaled to unit length (a zero vector stays zero).</summary>
    public static float[] Normalize(float[] v)
    {
        double sq = 0;
        foreach (var x in v) sq += (double)x * x;
        var norm = Math.Sqrt(sq);
        return norm == 0 ? (float[])v.Clone() : v.Select(x => (float)(x / norm)).ToArray();
    }

    /// <summary>Dot product in double precision.</summary>
    public static double Dot(float[] a, float[] b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"vector lengths differ: {a.Length} vs {b.Length}");
        double s = 0;
        for (var i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }

    /// <summary>
    /// Top-k by cosine similarity of <paramref name="query"/> to unit-length <paramref name="normalizedPool"/> vectors;
    /// most similar first, ties broken by lower index.
    /// </summary>
    public static IReadOnlyList<Neighbour> TopK(IReadOnlyList<float[]> normalizedPool, float[] query, int k, Func<int, bool>? exclude = null)
    {
        var q = Normalize(query);
        return TopK(normalizedPool.Count, i => Dot(normalizedPool[i], q), k, exclude);
    }

    /// <summary>Top-k over any similarity function of the pool index.</summary>
    internal static IReadOnlyList<Neighbour> TopK(int count, Func<int, double> similarity, int k, Func<int, bool>? exclude)
    {
        if (k <= 0) return [];
        // bounded min-heap of the best k so far; priority orders worst first
        var heap = new PriorityQueue<Neighbour, (double, int)>(k + 1);
        for (var i = 0; i < count; i++)
        {
            if (exclude is not null && exclude(i)) continue;
            var s = similarity(i);
            heap.Enqueue(new Neighbour(i, s), (s, -i));
            if (heap.Count > k) heap.Dequeue();
        }
        var result = new Neighbour[heap.Count];
        for (var i = result.Length - 1; i >= 0; i--) result[i] = heap.Dequeue();
        return result;
    }
}
