using FineTune.Kit.Evaluation;
using FineTune.Kit.Prompting;
using FineTune.Kit.Data;

namespace FineTune.Kit.Tests.Prompting;

public class FewShotSelectionTests
{
    [Fact]
    public void Tf_idf_weights_match_hand_computation()
    {
        // 3 documents; df(cat) = 2, df(sat) = 1 ; idf = ln((1 + n) / (1 + df)) + 1
        var v = TfIdfVectorizer.Fit(["cat sat", "cat cat dog", "dog barked"]);
        Assert.Equal(Math.Log(4.0 / 3) + 1, v.Idf("cat")!.Value, 12);
        Assert.Equal(Math.Log(4.0 / 2) + 1, v.Idf("sat")!.Value, 12);
        Assert.Null(v.Idf("unknown"));
        // "Cat, cat & DOG": tf cat 2, dog 1, both with idf ln(4/3)+1 -> normalised (2, 1) / sqrt(5)
        var x = v.Transform("Cat, cat & DOG");
        Assert.Equal([0, 2], x.Indices); // vocabulary ids in order of first appearance: cat 0, sat 1, dog 2, barked 3
        Assert.Equal(2 / Math.Sqrt(5), x.Values[0], 12);
        Assert.Equal(1 / Math.Sqrt(5), x.Values[1], 12);
    }

    [Fact]
    public void Tf_idf_nearest_neighbours_match_hand_computed_cosines()
    {
        var index = new TfIdfIndex(["cat sat", "cat cat dog", "dog barked"]);
        var hits = index.Nearest("cat", 3);
        // query = unit vector on "cat". doc 1 = (2 idf_c, idf_d)/norm -> cosine 2/sqrt(5);
        // doc 0 = (idf_c, idf_s)/norm -> idf_c / sqrt(idf_c^2 + idf_s^2); doc 2 shares nothing -> 0
        double idfC = Math.Log(4.0 / 3) + 1, idfS = Math.Log(2) + 1;
        Assert.Equal([1, 0, 2], hits.Select(h => h.Index));
        Assert.Equal(2 / Math.Sqrt(5), hits[0].Similarity, 12);
        Assert.Equal(idfC / Math.Sqrt(idfC * idfC + idfS * idfS), hits[1].Similarity, 12);
        Assert.Equal(0, hits[2].Similarity, 12);
    }

    [Fact]
    public void Tf_idf_search_agrees_with_a_dense_brute_force_computation()
    {
        var rng = new Random(8);
        var vocabulary = Enumerable.Range(0, 40).Select(i => $"w{i}").ToArray();
        string Text() => string.Join(' ', Enumerable.Range(0, rng.Next(3, 12)).Select(_ => vocabulary[rng.Next(vocabulary.Length)]));
        var pool = Enumerable.Range(0, 120).Select(_ => Text()).ToArray();

        // independent dense computation: counts x smoothed idf, then cosine
        var df = vocabulary.Select(w => pool.Count(d => d.Split(' ').Contains(w))).ToArray();
        double[] Dense(string text) => vocabulary.Select((w, j) =>
            df[j] == 0 ? 0 : text.Split(' ').Count(t => t == w) * (Math.Log((1.0 + pool.Length) / (1.0 + df[j])) + 1)).ToArray();
        var dense = pool.Select(Dense).ToArray();
        static double Cos(double[] a, double[] b) =>
            a.Zip(b, (x, y) => x * y).Sum() / Math.Sqrt(a.Sum(x => x * x) * b.Sum(x => x * x));

        var index = new TfIdfIndex(pool);
        for (var q = 0; q < 15; q++)
        {
            var query = Text();
            var expected = dense.Select(d => Cos(d, Dense(query))).OrderDescending().Take(5).ToArray();
            var actual = index.Nearest(query, 5);
            for (var r = 0; r < 5; r++)
            {
                Assert.Equal(expected[r], actual[r].Similarity, 9);
                Assert.Equal(Cos(dense[actual[r].Index], Dense(query)), actual[r].Similarity, 9);
            }
        }
    }

    [Fact]
    public void Cosine_top_k_equals_brute_force_on_random_vectors()
    {
        var rng = new Random(11);
        float[] Vec() => Enumerable.Range(0, 16).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var pool = Enumerable.Range(0, 300).Select(_ => Vec()).ToArray();
        var normalized = pool.Select(CosineSearch.Normalize).ToArray();
        for (var q = 0; q < 25; q++)
        {
            var query = Vec();
            var expected = pool.Select((v, i) => (i, cos: Cosine(v, query)))
                .OrderByDescending(p => p.cos).Take(7).Select(p => p.i).ToArray();
            var actual = CosineSearch.TopK(normalized, query, 7);
            Assert.Equal(expected, actual.Select(n => n.Index));
            Assert.Equal(Cosine(pool[expected[0]], query), actual[0].Similarity, 5);
        }
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }

    [Fact]
    public void Embedding_selection_returns_nearest_examples_and_skips_the_query_itself()
    {
        // texts are "p<i>"; the embedder maps them to fixed random vectors
        var rng = new Random(3);
        var vectors = Enumerable.Range(0, 50).Select(_ => Enumerable.Range(0, 8).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray()).ToArray();
        var calls = 0;
        Embedder embed = texts => { calls++; return texts.Select(t => vectors[int.Parse(t[1..])]).ToArray(); };
        var pool = Enumerable.Range(0, 50).Select(i => new LabeledExample($"p{i}", i % 3 == 0 ? "x" : "y")).ToArray();
        var shots = FewShot.ByEmbedding(pool, embed, batchSize: 16);
        Assert.Equal(4, calls); // 50 texts in batches of 16

        var query = "p7"; // in the pool: must not be its own shot
        var expected = Enumerable.Range(0, 50).Where(i => i != 7)
            .OrderByDescending(i => Cosine(vectors[i], vectors[7])).Take(4).ToArray();
        Assert.Equal(expected, shots.Neighbours(query, 4).Select(n => n.Index));
        // prompt order puts the nearest last, right before the query
        Assert.Equal(expected.Reverse().Select(i => $"p{i}"), shots.Select(query, 4).Select(e => e.Text));
        Assert.Equal(expected.Select(i => $"p{i}"), shots.NearestFirst().Select(query, 4).Select(e => e.Text));
    }

    [Fact]
    public void Balanced_selection_spreads_shots_over_labels()
    {
        // "cat" texts are nearest to the query but only half the shots may have their label
        LabeledExample[] pool =
        [
            new("cat cat one", "feline"), new("cat cat two", "feline"), new("cat cat three", "feline"),
            new("cat dog", "canine"), new("dog", "canine"), new("bird", "other"),
        ];
        var plain = FewShot.ByTfIdf(pool).NearestFirst().Select("cat cat", 4);
        Assert.Equal(3, plain.Count(e => e.Label == "feline"));
        var balanced = FewShot.ByTfIdf(pool).BalancedLabels().NearestFirst().Select("cat cat", 4);
        Assert.Equal(4, balanced.Count);
        // round 1 takes the nearest of each label, round 2 the next nearest overall
        Assert.Equal(["cat cat one", "cat cat two", "cat dog", "bird"], balanced.Select(e => e.Text));
        Assert.Contains(balanced, e => e.Label == "canine");
        Assert.Contains(balanced, e => e.Label == "other");
    }

    [Fact]
    public void Random_selection_is_seeded_distinct_and_never_the_query()
    {
        var pool = Enumerable.Range(0, 20).Select(i => new LabeledExample($"t{i}", "l")).ToArray();
        var a = FewShot.Random(pool, seed: 5).Select("t3", 6);
        var b = FewShot.Random(pool, seed: 5).Select("t3", 6);
        var c = FewShot.Random(pool, seed: 6).Select("t3", 6);
        Assert.Equal(a, b);
        Assert.NotEqual(a.Select(e => e.Text), c.Select(e => e.Text));
        Assert.Equal(6, a.Select(e => e.Text).Distinct().Count());
        Assert.DoesNotContain(a, e => e.Text == "t3");
        Assert.Equal(19, FewShot.Random(pool, 1).Select("t3", 100).Count);
    }

    [Fact]
    public void Fixed_selection_takes_the_first_k()
    {
        var pool = Enumerable.Range(0, 5).Select(i => new LabeledExample($"t{i}", "l")).ToArray();
        Assert.Equal(["t0", "t1"], FewShot.Fixed(pool).Select("anything", 2).Select(e => e.Text));
        Assert.Empty(FewShot.None.Select("anything", 3));
    }
}
