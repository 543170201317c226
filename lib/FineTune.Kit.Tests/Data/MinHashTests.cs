using FineTune.Kit.Data.Curation;

namespace FineTune.Kit.Tests.Data;

public class MinHashTests
{
    [Fact]
    public void Exact_jaccard_of_char_shingles_by_hand()
    {
        var s = new Shingler(3);
        // "abcd" -> {abc, bcd}; "bcde" -> {bcd, cde}: 1 shared of 3
        Assert.Equal(1.0 / 3, Shingler.Jaccard(s.Shingles("abcd"), s.Shingles("bcde")), 12);
        Assert.Equal(1.0, Shingler.Jaccard(s.Shingles("ABCD"), s.Shingles("abcd"))); // case folded
        Assert.Equal(2, new Shingler(2, ShingleUnit.Word).Shingles("a b c").Length); // {a b, b c}
    }

    [Fact]
    public void Minhash_estimates_are_within_tolerance_of_exact_jaccard()
    {
        // sets with known overlap: A = 0..99, B = k..(99+k): J = (100-k)/(100+k)
        var hasher = new MinHasher(permutations: 256, seed: 7);
        var random = new Random(3);
        var ids = Enumerable.Range(0, 400).Select(_ => (ulong)random.NextInt64()).ToArray();
        double worst = 0;
        foreach (var k in new[] { 0, 5, 11, 25, 43, 67, 100 })
        {
            var a = ids[..100];
            var b = ids[k..(100 + k)];
            double exact = (100.0 - k) / (100 + k);
            double estimate = MinHasher.Estimate(hasher.Signature(a), hasher.Signature(b));
            double sigma = Math.Sqrt(Math.Max(exact * (1 - exact), 0.01) / 256);
            worst = Math.Max(worst, Math.Abs(estimate - exact) / sigma);
            Assert.InRange(estimate, exact - 4 * sigma, exact + 4 * sigma);
        }
        Assert.True(worst > 0); // the estimate is a random variable, not a copy of the exact value
    }

    [Fact]
    public void Minhash_estimate_is_unbiased_over_many_pairs()
    {
        var hasher = new MinHasher(128, 11);
        var shingler = new Shingler(5);
        var texts = SyntheticTexts.Generate(400, 5);
        double sumDiff = 0;
        int n = 0;
        for (int i = 0; i + 1 < texts.Count; i += 2)
        {
            var a = shingler.Shingles(texts[i]);
            var b = shingler.Shingles(texts[i] + " " + texts[i + 1]); // partial overlap
            sumDiff += MinHasher.Estimate(hasher.Signature(a), hasher.Signature(b)) - Shingler.Jaccard(a, b);
            n++;
        }
        Assert.InRange(sumDiff / n, -0.01, 0.01);
    }

    [Fact]
    public void Banding_probability_and_choice()
    {
        Assert.Equal(1 - Math.Pow(1 - Math.Pow(0.8, 6), 21), LshIndex.CandidateProbability(0.8, 21, 6), 12);
        var (bands, rows) = LshIndex.ChooseBanding(0.8, 128);
        Assert.Equal((21, 6), (bands, rows)); // r=7 gives 0.985 < 0.99 at s=0.8, r=6 gives 0.998
        Assert.True(LshIndex.CandidateProbability(0.8, bands, rows) >= 0.99);
    }

    [Fact]
    public void Lsh_recalls_planted_near_duplicates()
    {
        var random = new Random(9);
        var texts = SyntheticTexts.Generate(2000, 21);
        var shingler = new Shingler(5);
        var sets = texts.Select(shingler.Shingles).ToArray();
        var truth = new HashSet<(int, int)>();
        for (int i = 0; i < sets.Length; i++)
            for (int j = i + 1; j < sets.Length; j++)
                if (Shingler.Jaccard(sets[i], sets[j]) >= 0.8) truth.Add((i, j));
        Assert.True(truth.Count > 50, $"expected planted pairs, got {truth.Count}");
        var found = new NearDuplicateDetector(new NearDuplicateOptions(Threshold: 0.8)).FindPairs(texts).Select(p => (p.First, p.Second)).ToHashSet();
        double recall = (double)truth.Count(found.Contains) / truth.Count;
        Assert.True(recall >= 0.95, $"recall {recall:0.000}");
        Assert.Subset(truth, found); // with exact verification there are no false positives
    }

    [Fact]
    public void Union_find_clusters_chains()
    {
        var clusters = NearDuplicateDetector.Clusters(6, [new SimilarPair(0, 2, 0.9), new SimilarPair(2, 4, 0.85), new SimilarPair(1, 5, 0.9)]);
        Assert.Equal([[0, 2, 4], [1, 5]], clusters);
    }

    [Fact]
    public void Detector_is_deterministic_for_a_seed()
    {
        var texts = SyntheticTexts.Generate(500, 1);
        var a = new NearDuplicateDetector().FindPairs(texts);
        var b = new NearDuplicateDetector().FindPairs(texts);
        Assert.Equal(a, b);
    }
}
