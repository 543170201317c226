using FineTune.Kit.Audit;

namespace FineTune.Kit.Tests.Audit;

public class SliceDisparityTests
{
    // Group a: 4 examples, group b: 4 examples, group c: 1 example (too small at MinGroupSize 2).
    //   a: gold x x y y, predicted x x x y   -> accuracy 3/4
    //   b: gold x y y y, predicted y y y x   -> accuracy 2/4
    //   c: gold x,       predicted x         -> accuracy 1
    private static readonly string[] Gold = ["x", "x", "y", "y", "x", "y", "y", "y", "x"];
    private static readonly string[] Predicted = ["x", "x", "x", "y", "y", "y", "y", "x", "x"];
    private static readonly string[] Groups = ["a", "a", "a", "a", "b", "b", "b", "b", "c"];

    private static DisparityResult Compute() => SliceDisparity.Of(Gold, Predicted, Groups).MinGroupSize(2).Resamples(200).Seed(1).Compute();

    [Fact]
    public void Per_group_rates_equal_hand_computed_values()
    {
        var r = Compute();
        Assert.Equal(["x", "y"], r.Labels);
        Assert.Equal(["a", "b", "c"], r.Groups.Select(g => g.Group));
        var (a, b, c) = (r.Groups[0], r.Groups[1], r.Groups[2]);
        Assert.Equal(0.75, a.Accuracy.Estimate, 12);
        Assert.Equal(0.5, b.Accuracy.Estimate, 12);
        Assert.True(c.TooSmall);
        Assert.False(a.TooSmall);
        Assert.Null(c.GapToRest);
        // a: label x: TP 2, FP 1 (a y predicted x), FN 0; label y: TP 1, FP 0, FN 1
        // F1(x) = 2*2/(2*2+1+0) = 0.8, F1(y) = 2*1/(2*1+0+1) = 2/3, macro 0.7333
        Assert.Equal((0.8 + 2.0 / 3) / 2, a.MacroF1, 12);
        var ax = a.Labels.Single(l => l.Label == "x");
        Assert.Equal(2, ax.Support);
        Assert.Equal(3.0 / 4, ax.SelectionRate, 12);
        Assert.Equal(1.0 / 2, ax.FalsePositiveRate, 12);   // one of the two y examples predicted x
        Assert.Equal(0, ax.FalseNegativeRate, 12);
        // b: label x: support 1, predicted x once (a y) -> FPR 1/3, FNR 1/1; selection 1/4
        var bx = b.Labels.Single(l => l.Label == "x");
        Assert.Equal(1.0 / 3, bx.FalsePositiveRate, 12);
        Assert.Equal(1, bx.FalseNegativeRate, 12);
        Assert.Equal(0.25, bx.SelectionRate, 12);
        // c has no y example: its rates for y are undefined, not zero
        Assert.True(double.IsNaN(c.Labels.Single(l => l.Label == "y").FalseNegativeRate));
        // gap to the rest: a 3/4 against b and c together 3/5
        Assert.Equal(0.75 - 0.6, a.GapToRest!.Value.Estimate, 12);
    }

    [Fact]
    public void Gaps_and_parity_differences_leave_small_groups_out_and_equal_hand_computed_values()
    {
        var r = Compute();
        Assert.Equal(6.0 / 9, r.OverallAccuracy, 12);
        Assert.Equal("a", r.AccuracyGap!.BestGroup);
        Assert.Equal("b", r.AccuracyGap.WorstGroup);   // c (accuracy 1) is too small to be ranked
        Assert.Equal(0.25, r.AccuracyGap.Gap.Estimate, 12);
        // selection rate of x: a 3/4, b 1/4 -> 0.5; of y: a 1/4, b 3/4 -> 0.5
        Assert.Equal(0.5, r.DemographicParity!.Difference.Estimate, 12);
        Assert.Equal(0.5, r.DemographicParity.PerLabel["x"], 12);
        // equalised odds, label x: TPR a 1, b 0 -> 1; FPR a 1/2, b 1/3 -> 1/6; max 1
        // label y: TPR a 1/2, b 2/3 -> 1/6; FPR a 0, b 1 -> 1; max 1
        Assert.Equal(1, r.EqualizedOdds!.Difference.Estimate, 12);
        Assert.Equal(1, r.EqualizedOdds.PerLabel["y"], 12);
        // macro-F1 of b: x TP 0 -> F1 0; y TP 2, FP 1, FN 1 -> F1 2/3; macro 1/3
        Assert.Equal((0.8 + 2.0 / 3) / 2 - 1.0 / 3, r.MacroF1Gap!.Gap.Estimate, 12);
    }

    [Fact]
    public void With_fewer_than_two_judged_groups_nothing_is_ranked()
    {
        var r = SliceDisparity.Of(Gold, Predicted, Groups).MinGroupSize(5).Resamples(50).Compute();
        Assert.All(r.Groups, g => Assert.True(g.TooSmall));
        Assert.Null(r.AccuracyGap);
        Assert.Null(r.DemographicParity);
        Assert.Null(r.EqualizedOdds);
    }

    [Fact]
    public void Bad_settings_and_mismatched_lengths_are_refused_by_name()
    {
        Assert.Contains("MinGroupSize", Assert.Throws<ArgumentOutOfRangeException>(() => SliceDisparity.Of(Gold, Predicted, Groups).MinGroupSize(0)).Message);
        Assert.Contains("Level", Assert.Throws<ArgumentOutOfRangeException>(() => SliceDisparity.Of(Gold, Predicted, Groups).Level(1)).Message);
        Assert.Contains("groups (2)", Assert.Throws<ArgumentException>(() => SliceDisparity.Of(Gold, Predicted, ["a", "b"])).Message);
    }

    [Fact]
    public void The_interval_of_the_largest_gap_covers_the_true_gap_at_about_the_nominal_rate()
    {
        // two groups of 150 whose true accuracies are 0.85 and 0.65: the true gap is 0.20
        const int seeds = 200, perGroup = 150;
        var covered = 0;
        for (var s = 0; s < seeds; s++)
        {
            var rng = new Random(1000 + s);
            var gold = new string[2 * perGroup];
            var predicted = new string[2 * perGroup];
            var groups = new string[2 * perGroup];
            for (var i = 0; i < gold.Length; i++)
            {
                var inA = i < perGroup;
                groups[i] = inA ? "a" : "b";
                gold[i] = rng.Next(2) == 0 ? "x" : "y";
                var right = rng.NextDouble() < (inA ? 0.85 : 0.65);
                predicted[i] = right ? gold[i] : gold[i] == "x" ? "y" : "x";
            }
            var gap = SliceDisparity.Of(gold, predicted, groups).Resamples(400).Seed(s).Compute().AccuracyGap!;
            var signed = gap.BestGroup == "a" ? gap.Gap : new FineTune.Kit.Evaluation.ConfidenceInterval(-gap.Gap.Estimate, -gap.Gap.Upper, -gap.Gap.Lower, gap.Gap.Level);
            if (signed.Contains(0.20)) covered++;
        }
        // nominal 95%: with 200 seeds the binomial standard error is 1.5 points
        Assert.InRange(covered / (double)seeds, 0.90, 0.99);
    }
}
