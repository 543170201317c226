namespace FineTune.Kit.Data.Curation;

/// <summary>Settings of near-duplicate detection.</summary>
/// <param name="Threshold">Estimated Jaccard similarity of shingle sets at or above which two texts are near duplicates.</param>
/// <param name="ShingleSize">Characters or words per shingle.</param>
/// <param name="Unit">Character or word shingles.</param>
/// <param name="Permutations">MinHash signature length.</param>
/// <param name="Bands">LSH bands; null chooses the banding from the threshold (see <see cref="LshIndex.ChooseBanding"/>).</param>
/// <param name="Seed">Seed of the hash family.</param>
/// <param name="VerifyExact">
/// Check each LSH candidate pair with the exact Jaccard similarity of its shingle sets (default) instead of the MinHash
/// estimate: no false positives, and the reported similarity is exact; costs memory for the shingle sets.
/// </param>
/// <param name="Normalization">How texts are normalised before shingling; null means <see cref="TextNormalization.Default"/>.</param>
public sealed record NearDuplicateOptions(
    double Threshold = 0.8, int ShingleSize = 5, ShingleUnit Unit = ShingleUnit.Char, int Permutations = 128, int? Bands = null, int Seed = Seeds.Default,
    bool VerifyExact = true, TextNormalization? Normalization = null)
{
    /// <summary>The normalisation in use.</summary>
    public TextNormalization TextNormalization => Normalization ?? TextNormalization.Default;

    /// <summary>The banding in use.</summary>
    public (int Bands, int Rows) Banding =>
        Bands is { } b ? (b, Permutations / b) : LshIndex.ChooseBanding(Threshold, Permutations);
}

/// <summary>A pair of near duplicates: indexes into the input and their Jaccard similarity (exact or estimated, see <see cref="NearDuplicateOptions.VerifyExact"/>).</summary>
public readonly record struct SimilarPair(int First, int Second, double Similarity);

/// <summary>
/// Finds near-duplicate texts in about linear time: shingles, MinHash signatures, LSH banding for candidate pairs,
/// then each candidate pair is kept if its exact shingle Jaccard (or, with <see cref="NearDuplicateOptions.VerifyExact"/>
/// off, its signature agreement) reaches the threshold. Pairs are grouped into clusters
/// with union-find, so a chain A~B~C forms one cluster even if A and C are less similar.
/// </summary>
public sealed class NearDuplicateDetector(NearDuplicateOptions? options = null)
{
    /// <summary>The settings.</summary>
    public NearDuplicateOptions Options { get; } = Validate(options ?? new NearDuplicateOptions());

    /// <summary>MinHash signatures of the texts.</summary>
    public ulong[][] Signatures(IReadOnlyList<string> texts) => Sketch(texts, keepShingles: false).Signatures;

    private (ulong[][] Signatures, ulong[][]? Shingles) Sketch(IReadOnlyList<string> texts, bool keepShingles)
    {
        var shingler = new Shingler(Options.ShingleSize, Options.Unit, Options.TextNormalization);
        var hasher = new MinHasher(Options.Permutations, Options.Seed);
        var signatures = new ulong[texts.Count][];
        var shingles = keepShingles ? new ulong[texts.Count][] : null;
        Parallel.For(0, texts.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var set = shingler.Shingles(texts[i]);
            signatures[i] = hasher.Signature(set);
            if (shingles is not null) shingles[i] = set;
        });
        return (signatures, shingles);
    }

    /// <summary>All near-duplicate pairs (First &lt; Second), in order of discovery.</summary>
    public List<SimilarPair> FindPairs(IReadOnlyList<string> texts)
    {
        var (signatures, shingles) = Sketch(texts, Options.VerifyExact);
        return FindPairs(signatures, shingles);
    }

    /// <summary>
    /// All near-duplicate pairs among precomputed signatures, judged by exact Jaccard when the shingle sets are given
    /// and by the MinHash estimate otherwise.
    /// </summary>
    public List<SimilarPair> FindPairs(ulong[][] signatures, ulong[][]? shingles = null)
    {
        var (bands, rows) = Options.Banding;
        var index = new LshIndex(bands, rows);
        var pairs = new List<SimilarPair>();
        var seen = new HashSet<long>();
        for (int i = 0; i < signatures.Length; i++)
        {
            int current = i;
            index.Add(signatures[i], other =>
            {
                if (!seen.Add(((long)other << 32) | (uint)current)) return;
                double s = shingles is not null
                    ? Shingler.Jaccard(shingles[other], shingles[current])
                    : MinHasher.Estimate(signatures[other], signatures[current]);
                if (s >= Options.Threshold) pairs.Add(new SimilarPair(other, current, s));
            });
        }
        return pairs;
    }

    /// <summary>Groups pairs into clusters; each cluster lists its member indexes ascending.</summary>
    public static List<List<int>> Clusters(int count, IEnumerable<SimilarPair> pairs)
    {
        var sets = new UnionFind(count);
        var members = new HashSet<int>();
        foreach (var p in pairs)
        {
            sets.Union(p.First, p.Second);
            members.Add(p.First);
            members.Add(p.Second);
        }
        return members.GroupBy(sets.Find).Select(g => g.OrderBy(i => i).ToList()).OrderBy(c => c[0]).ToList();
    }

    private static NearDuplicateOptions Validate(NearDuplicateOptions o)
    {
        if (o.Threshold is <= 0 or > 1) throw new ArgumentException($"near-duplicate threshold must be in (0, 1], got {o.Threshold}");
        if (o.Bands is { } b && (b < 1 || b > o.Permutations))
            throw new ArgumentException($"bands must be between 1 and the number of permutations ({o.Permutations}), got {b}");
        return o;
    }
}
