using FineTune.Kit.Explain;

namespace FineTune.Kit.Tests.Explain;

public class OwenValuesTests
{
    [Fact]
    public void Flat_tree_equals_exact_Shapley()
    {
        var g = Game.Interacting(7);
        var exact = new ExactShapley().Explain(g.Features, g.Evaluate);
        var owen = new OwenValues().OverTree(FeatureTree.Flat(7)).Explain(g.Features, g.Evaluate);
        for (int i = 0; i < 7; i++) Assert.Equal(exact.Values[i], owen.Values[i], 10);
    }

    [Fact]
    public void Glove_game_with_a_coalition_structure_matches_hand_computation()
    {
        // unions {0,1} and {2}: the union {0,1} already holds a pair, so it takes the whole value;
        // inside it, 0 earns (1/2)(1/2)(0+1) + (1/2)(1/2)(1+1) = 3/4 and 1 earns 1/4; player 2 earns 0.
        var g = Game.Glove();
        var tree = FeatureTree.Groups([[0, 1], [2]]);
        var a = new OwenValues().OverTree(tree).Explain(g.Features, g.Evaluate);
        Assert.Equal(0.75, a.Values[0], 12);
        Assert.Equal(0.25, a.Values[1], 12);
        Assert.Equal(0.0, a.Values[2], 12);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Deep_trees_are_efficient_and_keep_additive_terms(int fanout)
    {
        var interacting = Game.Interacting(13);
        var a = new OwenValues().OverTree(FeatureTree.Contiguous(13, fanout)).Explain(interacting.Features, interacting.Evaluate);
        Assert.True(Math.Abs(a.EfficiencyGap) < 1e-9, $"gap {a.EfficiencyGap}");

        var w = Enumerable.Range(0, 13).Select(i => (i % 4) - 1.5).ToArray();
        var additive = Game.Additive(0.3, w);
        var b = new OwenValues().OverTree(FeatureTree.Contiguous(13, fanout)).Explain(additive.Features, additive.Evaluate);
        for (int i = 0; i < 13; i++) Assert.Equal(w[i], b.Values[i], 10);
    }

    [Fact]
    public void Symmetric_members_of_a_group_are_treated_alike_and_null_players_get_zero()
    {
        var g = new Game(6, z => (z[0] && z[1] ? 1 : 0) + (z[2] ? 0.5 : 0) * (z[4] ? 2 : 1));
        var tree = FeatureTree.Groups([[0, 1], [2, 3], [4, 5]]);
        var a = new OwenValues().OverTree(tree).Explain(g.Features, g.Evaluate);
        Assert.Equal(a.Values[0], a.Values[1], 12);
        Assert.Equal(0, a.Values[3], 12);
        Assert.Equal(0, a.Values[5], 12);
    }

    [Fact]
    public void Long_inputs_are_affordable_with_a_balanced_tree()
    {
        var g = Game.Interacting(64);
        var a = new OwenValues().Explain(g.Features, g.Evaluate);
        Assert.True(Math.Abs(a.EfficiencyGap) < 1e-9);
        Assert.True(a.Evaluations < 64 * 64 * 2, $"{a.Evaluations} evaluations");
    }

    [Fact]
    public void Bad_trees_are_rejected()
    {
        var g = Game.Glove();
        Assert.ThrowsAny<ArgumentException>(() => new OwenValues().OverTree(FeatureTree.Groups([[0, 1]])).Explain(g.Features, g.Evaluate));
        Assert.ThrowsAny<ArgumentException>(() => new OwenValues().OverTree(FeatureTree.Groups([[0, 1], [1, 2]])).Explain(g.Features, g.Evaluate));
        var flat20 = Game.Additive(0, new double[20]);
        var e = Assert.ThrowsAny<ArgumentException>(() => new OwenValues().OverTree(FeatureTree.Flat(20)).AllowingUpTo(1000).Explain(flat20.Features, flat20.Evaluate));
        Assert.Contains("limit", e.Message);
    }

    [Fact]
    public void Sentences_group_word_features()
    {
        var features = FeatureSet.Named("Good", "film", ".", "Bad", "ending", "!");
        var tree = FeatureTree.BySentences(features);
        Assert.Equal(2, tree.Children.Count);
        Assert.Equal(new[] { 0, 1, 2 }, tree.Children[0].Features());
        Assert.Equal(new[] { 3, 4, 5 }, tree.Children[1].Features());
    }
}
