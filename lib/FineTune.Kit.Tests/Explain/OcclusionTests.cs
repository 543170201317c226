using FineTune.Kit.Explain;

namespace FineTune.Kit.Tests.Explain;

public class OcclusionTests
{
    [Fact]
    public void Single_feature_occlusion_of_an_additive_model_gives_its_terms()
    {
        var w = new[] { 1.0, -2.0, 0.5, 4.0 };
        var g = Game.Additive(1, w);
        var a = new Occlusion().Explain(g.Features, g.Evaluate);
        Assert.Equal(w, a.Values.Select(v => Math.Round(v, 12)));
        Assert.Equal(6, a.Evaluations);   // ∅, full, and one per feature
    }

    [Fact]
    public void Sliding_windows_average_the_drops_that_cover_each_feature()
    {
        var w = new[] { 1.0, 2.0, 4.0, 8.0 };
        var g = Game.Additive(0, w);
        var a = new Occlusion().Window(2).Explain(g.Features, g.Evaluate);
        // windows {0,1}=3, {1,2}=6, {2,3}=12
        Assert.Equal(new[] { 3.0, 4.5, 9.0, 12.0 }, a.Values);
    }

    [Fact]
    public void The_last_features_are_covered_when_the_stride_skips_them()
    {
        var g = Game.Additive(0, 1, 2, 4, 8, 16);
        var a = new Occlusion().Window(2, stride: 2).Explain(g.Features, g.Evaluate);
        // windows {0,1}=3, {2,3}=12, and the closing {3,4}=24
        Assert.Equal(new[] { 3.0, 3.0, 12.0, 18.0, 24.0 }, a.Values);
    }

    [Fact]
    public void Misses_effects_that_need_two_features_removed_together()
    {
        // f = x0 OR x1: removing either alone changes nothing, unlike Shapley which splits the value
        var g = new Game(2, z => z[0] || z[1] ? 1 : 0);
        Assert.Equal(new[] { 0.0, 0.0 }, new Occlusion().Explain(g.Features, g.Evaluate).Values);
        Assert.Equal(new[] { 0.5, 0.5 }, new ExactShapley().Explain(g.Features, g.Evaluate).Values);
    }
}
