using FineTune.Kit.Explain;

namespace FineTune.Kit.Tests.Explain;

public class AttentionMapsTests
{
    /// <summary>Causal softmax attention with random scores: [layers][heads][T][T].</summary>
    private static float[][][][] RandomCausal(int layers, int heads, int t, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, layers).Select(_ => Enumerable.Range(0, heads).Select(_ =>
            Enumerable.Range(0, t).Select(i =>
            {
                var e = Enumerable.Range(0, t).Select(j => j <= i ? Math.Exp(rng.NextDouble() * 3) : 0).ToArray();
                double s = e.Sum();
                return e.Select(v => (float)(v / s)).ToArray();
            }).ToArray()).ToArray()).ToArray();
    }

    private static float[][][][] Identity(int layers, int heads, int t) =>
        Enumerable.Range(0, layers).Select(_ => Enumerable.Range(0, heads).Select(_ =>
            Enumerable.Range(0, t).Select(i => Enumerable.Range(0, t).Select(j => i == j ? 1f : 0f).ToArray()).ToArray())
            .ToArray()).ToArray();

    [Fact]
    public void Softmax_rows_pass_the_row_sum_check()
    {
        var a = RandomCausal(3, 4, 6, 1);
        var report = AttentionMaps.CheckRowSums(a);
        Assert.True(report.Ok, $"deviation {report.MaxDeviation}");
        AttentionMaps.EnsureRowsSumToOne(a);
    }

    [Fact]
    public void A_broken_row_is_named()
    {
        var a = RandomCausal(3, 4, 6, 2);
        a[2][1][4][0] += 0.1f;
        var report = AttentionMaps.CheckRowSums(a);
        Assert.False(report.Ok);
        Assert.Equal((2, 1, 4), (report.Layer, report.Head, report.Row));
        var e = Assert.ThrowsAny<ArgumentException>(() => AttentionMaps.EnsureRowsSumToOne(a));
        Assert.Contains("row 4 of layer 2 head 1", e.Message);
    }

    [Fact]
    public void Ragged_arrays_are_rejected()
    {
        var a = RandomCausal(2, 2, 3, 3);
        a[1][0][2] = new float[2];
        var e = Assert.ThrowsAny<ArgumentException>(() => AttentionMaps.Shape(a));
        Assert.Contains("Layer 1 head 0 row 2", e.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Rollout_of_identity_attention_is_identity(bool residual)
    {
        var r = AttentionMaps.Rollout(Identity(4, 3, 5), residual);
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 5; j++) Assert.Equal(i == j ? 1 : 0, r[i][j], 12);
    }

    [Fact]
    public void Rollout_matches_a_hand_computed_two_layer_case()
    {
        // both heads: [[1,0],[0.5,0.5]]; with the residual Â = (A + I)/2 = [[1,0],[0.25,0.75]]; Â² = [[1,0],[0.4375,0.5625]]
        float[][] head = [[1f, 0f], [0.5f, 0.5f]];
        var a = new[] { new[] { head, head }, new[] { head, head } };
        var r = AttentionMaps.Rollout(a);
        Assert.Equal(1, r[0][0], 12);
        Assert.Equal(0, r[0][1], 12);
        Assert.Equal(0.4375, r[1][0], 12);
        Assert.Equal(0.5625, r[1][1], 12);
    }

    [Fact]
    public void Rollout_rows_sum_to_one()
    {
        var r = AttentionMaps.Rollout(RandomCausal(6, 4, 7, 5));
        foreach (var row in r) Assert.Equal(1, row.Sum(), 5);
    }

    [Fact]
    public void Head_summaries_recognise_previous_token_and_sink_heads()
    {
        int t = 5;
        var prev = Enumerable.Range(0, t).Select(i => Enumerable.Range(0, t).Select(j => j == Math.Max(0, i - 1) ? 1f : 0f).ToArray()).ToArray();
        var sink = Enumerable.Range(0, t).Select(i => Enumerable.Range(0, t).Select(j => j == 0 ? 1f : 0f).ToArray()).ToArray();
        var grid = AttentionMaps.HeadSummaries([[prev, sink]]);
        Assert.Equal(1, grid[0][0].PreviousToken, 12);
        Assert.Equal(1, grid[0][1].FirstToken, 12);
        Assert.Equal(0, grid[0][0].Entropy, 12);
        Assert.Equal(new[] { 0.5, 0.0, 0.0, 0.5, 0.0 }, AttentionMaps.HeadAverage([[prev, sink]], 0)[4]);
    }
}
