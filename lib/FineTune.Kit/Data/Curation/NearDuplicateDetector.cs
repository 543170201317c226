namespace FineTune.Kit.Data.Curation;

/// <summary>Settings of near-duplicate detection.</summary>
/// <param name="Threshold">Estimated Jaccard similarity of shingle sets at or above which two texts are near duplicates.</param>
/// <param name="ShingleSize">Characters or words per shingle.</param>
/// <param name="Unit">Character or word shingles.</param>
/// <param name="Permutations">MinHash signature length.</param>
/// <param name="Bands">LSH bands; null chooses the banding from the threshold (see <see cref="LshIndex.ChooseBanding"/>).</param>
/// <param name="Seed">Seed of the hash family.</param>
public sealed record NearDuplicateOptions(
    double Threshold = 0.8, int ShingleSize = 5, ShingleUnit Unit = ShingleUnit.Char, int Permutations = 128, int? Bands = null, int Seed = 1)
{
    /// <summary>The banding in use.</summary>
    public (int Bands, int Rows) Banding =>
        Bands is { } b ? (b, Permutations / b) : LshIndex.ChooseBanding(Threshold, Permutations);
}

/// <summary>A pair of near duplicates: indexes into the input and their estimated Jaccard similarity.</summary>
public readonly record struct SimilarPair(int First, int Second, double Similarity);

/// <summary>
/// Finds near-duplicate texts in about linear time: shingles, MinHash signatures, LSH banding for candidate pairs,
/// then each candidate pair is kept if its signature agreement reaches the threshold. Pairs are grouped into clusters
/// with union-find, so a chain A~B~C forms one cluster even if A and C are less similar.
/// </summary>
public sealed class NearDuplicateDetector(NearDuplicateOptions? options = null)
{
    /// <summary>The settings.</summary>
    public NearDuplicateOptions Options { get; } = Validate(options ?? new NearDuplicateOptions());

    /// <summary>MinHash signatures of the texts.</summary>
    public ulong[][] Signatures(IReadOnlyList<string> texts)
    {
        var shingler = new Shingler(Options.ShingleSize, Options.Unit);
        var hasher = new MinHasher(Options.Permutations, Options.Seed);
        var result = new ulong[texts.Count][];
        Parallel.For(0, texts.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            i => result[i] = hasher.Signature(shingler.Shingles(texts[i])));
        return result;
    }

    /// <summary>All near-duplicate pairs (First &lt; Second), in order of discovery.</summary>
    public List<SimilarPair> FindPairs(IReadOnlyList<string> texts) => FindPairs(Signatures(texts));

    /// <summary>All near-duplicate pairs among precomputed signatures.</summary>
    public List<SimilarPair> FindPairs(ulong[][] signatures)
    {
        var (bands, rows) = Options.Banding;
        var index = new LshIndex(bands, rows);
        var pairs = new List<SimilarPair>();
        var seen = new HashSet<long>();
        for (int i = 0; i < signatures.Length; i++)
        {
            int current = i;
            index.Add(i, signatures[i], other =>
            {
                if (!seen.Add(((long)other << 32) | (uint)current)) return;
                double s = MinHasher.Estimate(signatures[other], signatures[current]);
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
