namespace FineTune.Kit.Explain;

/// <summary>Quadrature rule for the path integral of <see cref="IntegratedGradients"/>.</summary>
public enum IntegrationRule
{
    /// <summary>Gauss–Legendre nodes on (0, 1): exact for polynomial paths of degree 2·steps − 1.</summary>
    GaussLegendre,
    /// <summary>steps + 1 equally spaced points including both ends, half weight at the ends.</summary>
    Trapezoid,
    /// <summary>The centres of steps equal intervals.</summary>
    Midpoint,
    /// <summary>Left end of each interval (biased, first order; for comparison with other tools).</summary>
    LeftRiemann,
    /// <summary>Right end of each interval (biased, first order).</summary>
    RightRiemann,
}

/// <summary>
/// Integrated gradients (Sundararajan et al. 2017): attribution_i = (x_i − x'_i) · ∫₀¹ ∂f/∂x_i(x' + α(x − x')) dα, with the
/// integral replaced by a quadrature over <c>Steps</c> points. Completeness says the attributions sum to
/// f(x) − f(x'); the difference left by the quadrature is reported as <c>completeness_gap</c> (absolute) and
/// <c>relative_completeness_gap</c> (divided by |f(x) − f(x')|). A large gap means more steps are needed.
/// Dimensions that belong to no feature of the layout stay at the input along the whole path (x' takes their input
/// values), so the reported features alone add up to f(x) − f(x').
/// </summary>
public sealed class IntegratedGradients
{
    /// <summary>Quadrature points (default 64).</summary>
    public int StepsValue { get; private set; } = 64;

    /// <summary>Quadrature rule (default Gauss–Legendre).</summary>
    public IntegrationRule Rule { get; private set; } = IntegrationRule.GaussLegendre;

    /// <summary>Inputs per call of the gradient function (default 16).</summary>
    public int BatchSize { get; private set; } = 16;

    /// <summary>What f measures, copied into the result.</summary>
    public string Target { get; private set; } = "";

    /// <summary>Sets the number of quadrature points.</summary>
    public IntegratedGradients Steps(int steps)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), $"Integrated gradients needs at least one step, got {steps}.");
        StepsValue = steps;
        return this;
    }

    /// <summary>Sets the quadrature rule.</summary>
    public IntegratedGradients Using(IntegrationRule rule)
    {
        Rule = rule;
        return this;
    }

    /// <summary>Sends at most <paramref name="batchSize"/> interpolated inputs per call.</summary>
    public IntegratedGradients InBatchesOf(int batchSize)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"Batch size must be at least 1, got {batchSize}.");
        BatchSize = batchSize;
        return this;
    }

    /// <summary>Labels what f measures.</summary>
    public IntegratedGradients ForTarget(string target)
    {
        Target = target;
        return this;
    }

    /// <summary>The (α, weight) pairs of the chosen rule on [0, 1]; the weights sum to 1.</summary>
    public static (double Alpha, double Weight)[] Nodes(IntegrationRule rule, int steps) => rule switch
    {
        IntegrationRule.Trapezoid => Enumerable.Range(0, steps + 1)
            .Select(k => ((double)k / steps, (k == 0 || k == steps ? 0.5 : 1.0) / steps)).ToArray(),
        IntegrationRule.Midpoint => Enumerable.Range(0, steps).Select(k => ((k + 0.5) / steps, 1.0 / steps)).ToArray(),
        IntegrationRule.LeftRiemann => Enumerable.Range(0, steps).Select(k => ((double)k / steps, 1.0 / steps)).ToArray(),
        IntegrationRule.RightRiemann => Enumerable.Range(1, steps).Select(k => ((double)k / steps, 1.0 / steps)).ToArray(),
        _ => GaussLegendre(steps),
    };

    /// <summary>Explains f(input) against f(baseline), one attribution per layout feature.</summary>
    public Attribution Explain(double[] input, double[] baseline, GradientValue f, InputLayout? layout = null)
    {
        if (input.Length != baseline.Length)
            throw new ArgumentException($"Input has {input.Length} dimensions but the baseline has {baseline.Length}.");
        layout ??= InputLayout.PerDimension(input.Length);
        if (layout.Dimensions != input.Length)
            throw new ArgumentException($"The layout covers {layout.Dimensions} dimensions but the input has {input.Length}.");
        baseline = layout.BaselineFor(input, baseline);
        int n = input.Length;
        var nodes = Nodes(Rule, StepsValue);
        // the two ends are evaluated too: they give f(x') and f(x) for the completeness check
        var alphas = nodes.Select(p => p.Alpha).Append(0.0).Append(1.0).ToArray();
        var results = new ValueAndGradient[alphas.Length];
        for (int start = 0; start < alphas.Length; start += BatchSize)
        {
            int count = Math.Min(BatchSize, alphas.Length - start);
            var batch = new double[count][];
            for (int i = 0; i < count; i++)
            {
                double a = alphas[start + i];
                batch[i] = new double[n];
                for (int d = 0; d < n; d++) batch[i][d] = baseline[d] + a * (input[d] - baseline[d]);
            }
            Array.Copy(InputLayout.Call(f, batch, n), 0, results, start, count);
        }
        var avgGrad = new double[n];
        for (int k = 0; k < nodes.Length; k++)
            for (int d = 0; d < n; d++) avgGrad[d] += nodes[k].Weight * results[k].Gradient[d];
        var perDimension = new double[n];
        for (int d = 0; d < n; d++) perDimension[d] = (input[d] - baseline[d]) * avgGrad[d];
        double f0 = results[^2].Value, fx = results[^1].Value;
        return GradientResult.Build("integrated_gradients", perDimension, f0, fx, layout, Target, alphas.Length,
            nodes.Length, new Dictionary<string, double> { ["steps"] = StepsValue, ["rule"] = (int)Rule });
    }

    /// <summary>Gauss–Legendre nodes and weights mapped from [−1, 1] to [0, 1] (Newton's method on P_n).</summary>
    private static (double, double)[] GaussLegendre(int n)
    {
        var nodes = new (double, double)[n];
        for (int i = 0; i < (n + 1) / 2; i++)
        {
            double x = Math.Cos(Math.PI * (i + 0.75) / (n + 0.5));
            double dp = 0;
            for (int iter = 0; iter < 100; iter++)
            {
                // P_n(x) by the three-term recurrence, with its derivative
                double p0 = 1, p1 = x;
                for (int k = 2; k <= n; k++) (p0, p1) = (p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k);
                dp = n * (x * p1 - p0) / (x * x - 1);
                double dx = p1 / dp;
                x -= dx;
                if (Math.Abs(dx) < 1e-15) break;
            }
            double w = 2 / ((1 - x * x) * dp * dp);
            nodes[i] = ((1 - x) / 2, w / 2);
            nodes[n - 1 - i] = ((1 + x) / 2, w / 2);
        }
        return nodes.OrderBy(p => p.Item1).ToArray();
    }
}
