namespace FineTune.Kit.Data.Curation;

/// <summary>
/// MinHash signatures: for each of <see cref="Permutations"/> seeded hash functions, the smallest hash over a text's
/// shingles. The share of positions where two signatures agree is an unbiased estimate of the Jaccard similarity of
/// the shingle sets (standard error about sqrt(J(1-J)/permutations)). Each "permutation" is a seeded bijective
/// 64-bit mixer applied to the shingle hash, which behaves like a random permutation of the 64-bit space.
/// </summary>
public sealed class MinHasher
{
    private readonly ulong[] _seeds;

    /// <summary>Creates the hash family; the same seed gives the same signatures.</summary>
    public MinHasher(int permutations = 128, int seed = Seeds.Default)
    {
        if (permutations < 1) throw new ArgumentException($"permutations must be positive, got {permutations}");
        var random = new Random(seed);
        _seeds = new ulong[permutations];
        for (int i = 0; i < permutations; i++) _seeds[i] = (ulong)random.NextInt64() ^ ((ulong)random.Next() << 63);
    }

    /// <summary>Signature length.</summary>
    public int Permutations => _seeds.Length;

    /// <summary>The signature of a shingle set (all <see cref="ulong.MaxValue"/> for an empty set).</summary>
    public ulong[] Signature(ulong[] shingles)
    {
        var sig = new ulong[_seeds.Length];
        Array.Fill(sig, ulong.MaxValue);
        foreach (var s in shingles)
            for (int p = 0; p < sig.Length; p++)
            {
                ulong h = Shingler.Mix(s ^ _seeds[p]);
                if (h < sig[p]) sig[p] = h;
            }
        return sig;
    }

    /// <summary>Estimated Jaccard similarity: the share of equal positions.</summary>
    public static double Estimate(ulong[] a, ulong[] b)
    {
        int same = 0;
        for (int i = 0; i < a.Length; i++) if (a[i] == b[i]) same++;
        return (double)same / a.Length;
    }
}
