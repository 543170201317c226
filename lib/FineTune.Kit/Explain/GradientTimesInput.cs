namespace FineTune.Kit.Explain;

/// <summary>
/// Gradient × input: attribution_i = (x_i − x'_i) · ∂f/∂x_i(x), a one-gradient first-order approximation of
/// integrated gradients. Exact completeness only for linear f; the gap is reported as for integrated gradients, against
/// the same baseline (dimensions of no feature held at the input).
/// </summary>
public sealed class GradientTimesInput
{
    /// <summary>What f measures, copied into the result.</summary>
    public string Target { get; private set; } = "";

    /// <summary>Labels what f measures.</summary>
    public GradientTimesInput ForTarget(string target)
    {
        Target = target;
        return this;
    }

    /// <summary>Explains f(input) against f(baseline) (pass zeros for plain gradient × input).</summary>
    public Attribution Explain(double[] input, double[] baseline, GradientValue f, InputLayout? layout = null)
    {
        if (input.Length != baseline.Length)
            throw new ArgumentException($"Input has {input.Length} dimensions but the baseline has {baseline.Length}.");
        layout ??= InputLayout.PerDimension(input.Length);
        if (layout.Dimensions != input.Length)
            throw new ArgumentException($"The layout covers {layout.Dimensions} dimensions but the input has {input.Length}.");
        baseline = layout.BaselineFor(input, baseline);
        var r = InputLayout.Call(f, [input, baseline], input.Length);
        var perDimension = new double[input.Length];
        for (int d = 0; d < input.Length; d++) perDimension[d] = (input[d] - baseline[d]) * r[0].Gradient[d];
        return GradientResult.Build("gradient_x_input", perDimension, r[1].Value, r[0].Value, layout, Target, 2, 1, []);
    }
}
