using FineTune.Kit.Explain;

namespace FineTune.Kit.Tests.Explain;

public class ExactShapleyTests
{
    [Fact]
    public void Glove_game_matches_hand_computed_values()
    {
        // left glove: 2/3; each right glove: 1/6 (it completes a pair only when ordered after the left and before the other right)
        var g = Game.Glove();
        var a = new ExactShapley().Explain(g.Features, g.Evaluate);
        Assert.Equal(2.0 / 3, a.Values[0], 12);
        Assert.Equal(1.0 / 6, a.Values[1], 12);
        Assert.Equal(1.0 / 6, a.Values[2], 12);
    }

    [Fact]
    public void Majority_game_splits_equally()
    {
        var g = Game.Majority();
        var a = new ExactShapley().Explain(g.Features, g.Evaluate);
        Assert.All(a.Values, v => Assert.Equal(1.0 / 3, v, 12));
    }

    [Fact]
    public void Additive_model_gets_its_terms()
    {
        var g = Game.Additive(0.7, 1.0, -2.0, 0.5, 0.0, 3.25);
        var a = new ExactShapley().Explain(g.Features, g.Evaluate);
        Assert.Equal(new[] { 1.0, -2.0, 0.5, 0.0, 3.25 }, a.Values.Select(v => Math.Round(v, 12)));
        Assert.Equal(0.7, a.BaseValue, 12);
    }

    [Fact]
    public void Efficiency_holds_and_values_match_the_permutation_definition()
    {
        var g = Game.Interacting(7);
        var a = new ExactShapley().Explain(g.Features, g.Evaluate);
        Assert.True(Math.Abs(a.EfficiencyGap) < 1e-10, $"gap {a.EfficiencyGap}");
        var reference = g.ShapleyByPermutations();
        for (int i = 0; i < 7; i++) Assert.Equal(reference[i], a.Values[i], 10);
    }

    [Fact]
    public void Symmetric_players_get_equal_values_and_a_null_player_gets_zero()
    {
        // players 0 and 1 enter symmetrically (swapping them never changes v); player 3 never changes the value
        var g = new Game(4, z => (z[0] ? 1 : 0) + (z[1] ? 1 : 0) + (z[0] && z[1] ? 2 : 0)
                               + (z[2] ? 0.5 : 0) * (1 + (z[0] ? 1 : 0) + (z[1] ? 1 : 0)));
        var a = new ExactShapley().Explain(g.Features, g.Evaluate);
        Assert.Equal(a.Values[0], a.Values[1], 12);
        Assert.Equal(0, a.Values[3], 12);
        Assert.NotEqual(0, a.Values[2], 6);
    }

    [Fact]
    public void Evaluates_each_coalition_once_in_batches_of_the_requested_size()
    {
        var g = Game.Interacting(6);
        var a = new ExactShapley().InBatchesOf(10).Explain(g.Features, g.Evaluate);
        Assert.Equal(64, a.Evaluations);
        Assert.Equal(64, g.Seen.Count);
        Assert.Equal(64, g.Seen.Distinct(new MaskEquality()).Count());
        Assert.True(g.LargestBatch <= 10);
        Assert.Equal(7, g.Calls);
    }

    [Fact]
    public void Too_many_features_is_a_clear_error()
    {
        var g = Game.Additive(0, new double[15]);
        var e = Assert.ThrowsAny<ArgumentException>(() => new ExactShapley().Explain(g.Features, g.Evaluate));
        Assert.Contains("limit of 14", e.Message);
        Assert.Equal(0, g.Calls);
        Assert.ThrowsAny<ArgumentException>(() => new ExactShapley().AllowingUpTo(30));
    }

    [Fact]
    public void A_misbehaving_value_function_is_reported()
    {
        var features = FeatureSet.Named("a", "b");
        Assert.Throws<KitException>(() => new ExactShapley().Explain(features, c => new double[c.Count + 1]));
        var e = Assert.Throws<KitException>(() => new ExactShapley().Explain(features, c => c.Select(_ => double.NaN).ToArray()));
        Assert.Contains("finite", e.Message);
    }
}
