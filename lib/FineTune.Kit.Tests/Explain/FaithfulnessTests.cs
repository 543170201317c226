using FineTune.Kit.Explain;

namespace FineTune.Kit.Tests.Explain;

public class FaithfulnessTests
{
    private static readonly double[] W = [0.5, 3.0, -1.0, 2.0];

    [Fact]
    public void Deletion_curve_removes_features_in_attribution_order()
    {
        var g = Game.Additive(1, W);
        var a = new ExactShapley().Explain(g.Features, g.Evaluate);
        Assert.Equal(new[] { 1, 3, 0, 2 }, Faithfulness.Ranking(a));
        // f = 1 + Σ w: 5.5 → remove 3.0 → 2.5 → remove 2.0 → 0.5 → remove 0.5 → 0 → remove −1 → 1
        Assert.Equal(new[] { 5.5, 2.5, 0.5, 0.0, 1.0 }, Faithfulness.DeletionCurve(a, g.Evaluate));
        Assert.Equal(5.0, Faithfulness.Comprehensiveness(a, g.Evaluate, 2), 12);
        Assert.Equal(5.5 - 6.0, Faithfulness.Sufficiency(a, g.Evaluate, 2), 12);
        Assert.Equal((3.0 + 5.0) / 2, Faithfulness.Aopc(a, g.Evaluate, 2), 12);
    }

    [Fact]
    public void A_faithful_ranking_beats_a_reversed_one()
    {
        var g = Game.Interacting(8);
        var shap = new ExactShapley().Explain(g.Features, g.Evaluate);
        var reversed = new Attribution("reversed", shap.Features, shap.Values.Select(v => -v).ToArray(), shap.BaseValue, shap.FullValue);
        Assert.True(Faithfulness.Aopc(shap, g.Evaluate) > Faithfulness.Aopc(reversed, g.Evaluate));
    }

    [Fact]
    public void Rank_correlation_compares_methods()
    {
        var g = Game.Additive(0, W);
        var exact = new ExactShapley().Explain(g.Features, g.Evaluate);
        var lime = new Lime().Samples(500).Explain(g.Features, g.Evaluate);
        Assert.Equal(1.0, Faithfulness.RankCorrelation(exact, lime), 12);
        var flipped = new Attribution("flip", exact.Features, exact.Values.Select(v => -v).ToArray(), 0, 0);
        Assert.Equal(-1.0, Faithfulness.RankCorrelation(exact, flipped), 12);
    }
}
