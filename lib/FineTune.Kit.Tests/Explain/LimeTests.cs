using FineTune.Kit.Explain;

namespace FineTune.Kit.Tests.Explain;

public class LimeTests
{
    [Fact]
    public void Recovers_the_weights_of_a_linear_model()
    {
        var w = new[] { 1.0, -0.5, 2.0, 0.0, -1.5, 0.75, 0.25, -0.25 };
        var g = Game.Additive(0.3, w);
        var a = new Lime().Samples(3000).Seed(4).Explain(g.Features, g.Evaluate);
        for (int i = 0; i < w.Length; i++) Assert.True(Math.Abs(a.Values[i] - w[i]) < 0.02, $"feature {i}: {a.Values[i]} vs {w[i]}");
        Assert.True(a.Diagnostics["fidelity_r2"] > 0.999);
        Assert.Equal(0.3, a.Diagnostics["intercept"], 1);
    }

    [Fact]
    public void Without_ridge_a_linear_model_is_fitted_exactly()
    {
        var w = new[] { 0.4, -1.2, 0.9 };
        var g = Game.Additive(-0.1, w);
        var a = new Lime().Ridge(0).Samples(200).Explain(g.Features, g.Evaluate);
        for (int i = 0; i < w.Length; i++) Assert.Equal(w[i], a.Values[i], 9);
        Assert.Equal(-0.1, a.Diagnostics["intercept"], 9);
        Assert.Equal(1, a.Diagnostics["fidelity_r2"], 9);
    }

    [Fact]
    public void Fidelity_drops_for_a_strongly_non_linear_model()
    {
        var g = new Game(6, z => z.Count(b => b) % 2 == 0 ? 1 : 0);   // parity: no linear surrogate fits it
        var a = new Lime().Samples(2000).Explain(g.Features, g.Evaluate);
        Assert.True(a.Diagnostics["fidelity_r2"] < 0.5, $"R² {a.Diagnostics["fidelity_r2"]}");
    }

    [Fact]
    public void Kernel_weights_follow_the_cosine_distance()
    {
        Assert.Equal(1, Lime.KernelWeight(10, 10, 0.25), 12);
        double d = 1 - Math.Sqrt(0.5);
        Assert.Equal(Math.Exp(-d * d / 0.0625), Lime.KernelWeight(5, 10, 0.25), 12);
        Assert.Equal(Math.Exp(-16), Lime.KernelWeight(0, 10, 0.25), 12);
    }

    [Fact]
    public void Is_deterministic_for_a_seed_and_evaluates_each_coalition_once()
    {
        var g = Game.Interacting(9);
        var a = new Lime().Samples(500).Seed(3).InBatchesOf(50).Explain(g.Features, g.Evaluate);
        var b = new Lime().Samples(500).Seed(3).Explain(g.Features, g.Evaluate);
        Assert.Equal(a.Values, b.Values);
        int first = a.Evaluations;
        Assert.True(first <= 501);
        Assert.True(g.LargestBatch <= 64);
    }
}
