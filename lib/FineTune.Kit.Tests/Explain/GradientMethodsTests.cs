using FineTune.Kit.Explain;

namespace FineTune.Kit.Tests.Explain;

public class GradientMethodsTests
{
    private static readonly double[] W = [0.8, -1.3, 2.1, 0.4];

    /// <summary>f(x) = Σ w_i x_i², ∇f = 2 w ∘ x.</summary>
    private static ValueAndGradient[] Quadratic(IReadOnlyList<double[]> xs) =>
        xs.Select(x => new ValueAndGradient(x.Select((v, i) => W[i] * v * v).Sum(), x.Select((v, i) => 2 * W[i] * v).ToArray())).ToArray();

    /// <summary>f(x) = σ(w·x + c), ∇f = σ(1 − σ) w.</summary>
    private static ValueAndGradient[] SigmoidOfLinear(IReadOnlyList<double[]> xs) =>
        xs.Select(x =>
        {
            double s = 1 / (1 + Math.Exp(-(x.Select((v, i) => W[i] * v).Sum() - 0.3)));
            return new ValueAndGradient(s, W.Select(w => s * (1 - s) * w).ToArray());
        }).ToArray();

    [Theory]
    [InlineData(IntegrationRule.Trapezoid)]
    [InlineData(IntegrationRule.Midpoint)]
    [InlineData(IntegrationRule.GaussLegendre)]
    public void Quadratic_attributions_are_w_times_the_change_in_x_squared(IntegrationRule rule)
    {
        double[] x = [1.5, -2.0, 0.7, 3.0], b = [0.5, 1.0, -0.2, 0.0];
        var a = new IntegratedGradients().Using(rule).Steps(64).Explain(x, b, Quadratic);
        // ∫ 2 w_i (b_i + α(x_i − b_i)) dα · (x_i − b_i) = w_i (x_i² − b_i²); the integrand is linear so the rules are exact
        for (int i = 0; i < 4; i++) Assert.Equal(W[i] * (x[i] * x[i] - b[i] * b[i]), a.Values[i], 9);
        Assert.True(Math.Abs(a.Diagnostics["completeness_gap"]) < 1e-9);
    }

    [Theory]
    [InlineData(IntegrationRule.Trapezoid)]
    [InlineData(IntegrationRule.Midpoint)]
    [InlineData(IntegrationRule.GaussLegendre)]
    public void Sigmoid_of_linear_is_complete_within_one_percent_at_64_steps(IntegrationRule rule)
    {
        double[] x = [2.0, -1.5, 1.0, 2.5], b = new double[4];
        var a = new IntegratedGradients().Using(rule).Steps(64).InBatchesOf(7).Explain(x, b, SigmoidOfLinear);
        Assert.True(a.Diagnostics["relative_completeness_gap"] < 0.01, $"gap {a.Diagnostics["relative_completeness_gap"]}");
        // along a straight path every coordinate sees the same scalar σ'(z(α)), so IG_i = w_i x_i / (w·x) · (f(x) − f(0))
        double z = x.Select((v, i) => W[i] * v).Sum();
        double delta = a.FullValue - a.BaseValue;
        for (int i = 0; i < 4; i++)
            Assert.True(Math.Abs(a.Values[i] - W[i] * x[i] / z * delta) < 0.01 * Math.Abs(delta), $"feature {i}");
        // quadrature points plus the two ends
        Assert.Equal(rule == IntegrationRule.Trapezoid ? 67 : 66, a.Evaluations);
    }

    [Fact]
    public void Gauss_Legendre_weights_integrate_polynomials_exactly()
    {
        var nodes = IntegratedGradients.Nodes(IntegrationRule.GaussLegendre, 5);
        Assert.Equal(1, nodes.Sum(n => n.Weight), 12);
        // exact up to degree 9: ∫₀¹ α⁹ dα = 0.1
        Assert.Equal(0.1, nodes.Sum(n => n.Weight * Math.Pow(n.Alpha, 9)), 12);
    }

    [Fact]
    public void Left_Riemann_with_few_steps_shows_a_completeness_gap()
    {
        double[] x = [2.0, -1.5, 1.0, 2.5], b = new double[4];
        var coarse = new IntegratedGradients().Using(IntegrationRule.LeftRiemann).Steps(4).Explain(x, b, SigmoidOfLinear);
        var fine = new IntegratedGradients().Using(IntegrationRule.LeftRiemann).Steps(256).Explain(x, b, SigmoidOfLinear);
        Assert.True(coarse.Diagnostics["relative_completeness_gap"] > 0.02);
        Assert.True(fine.Diagnostics["relative_completeness_gap"] < coarse.Diagnostics["relative_completeness_gap"] / 10);
    }

    [Fact]
    public void Embedding_layout_sums_dimensions_into_word_features()
    {
        // 3 tokens × width 2: tokens 0 and 1 form one word, token 2 another
        var text = "unhappy day";
        var features = FeatureSet.FromWords(text, [new("un", 0, 2), new("happy", 2, 7), new(" day", 7, 11)]);
        var layout = InputLayout.Embeddings(features, width: 2);
        var w = new[] { 1.0, 2.0, 3.0, 4.0, 5.0, 6.0 };
        ValueAndGradient[] Linear(IReadOnlyList<double[]> xs) =>
            xs.Select(x => new ValueAndGradient(x.Select((v, i) => w[i] * v).Sum(), w)).ToArray();
        var x = Enumerable.Repeat(1.0, 6).ToArray();
        var a = new IntegratedGradients().Steps(8).Explain(x, new double[6], Linear, layout);
        Assert.Equal(new[] { "unhappy", "day" }, a.Features);
        Assert.Equal(new[] { 10.0, 11.0 }, a.Values.Select(v => Math.Round(v, 10)));
    }

    [Fact]
    public void Gradient_times_input_is_complete_for_linear_functions_only()
    {
        double[] x = [1.0, 2.0, -1.0, 0.5], b = new double[4];
        ValueAndGradient[] Linear(IReadOnlyList<double[]> xs) =>
            xs.Select(v => new ValueAndGradient(v.Select((t, i) => W[i] * t).Sum(), W)).ToArray();
        var linear = new GradientTimesInput().Explain(x, b, Linear);
        Assert.True(Math.Abs(linear.Diagnostics["completeness_gap"]) < 1e-12);
        var quadratic = new GradientTimesInput().Explain(x, b, Quadratic);
        // x ∘ 2wx = 2 w x²: twice the true change, so the gap equals f(x) − f(0)
        Assert.Equal(quadratic.FullValue - quadratic.BaseValue, quadratic.Diagnostics["completeness_gap"], 10);
    }

    [Fact]
    public void Wrong_gradient_shapes_are_reported()
    {
        ValueAndGradient[] Short(IReadOnlyList<double[]> xs) => xs.Select(_ => new ValueAndGradient(0, new double[1])).ToArray();
        var e = Assert.Throws<KitException>(() => new IntegratedGradients().Explain([1.0, 2.0], [0.0, 0.0], Short));
        Assert.Contains("expected 2", e.Message);
    }
}
