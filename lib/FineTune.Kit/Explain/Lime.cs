namespace FineTune.Kit.Explain;

/// <summary>
/// LIME (Ribeiro et al. 2016) for text: random coalitions (the number of removed features is uniform in 1..M, then a
/// uniform random subset of that size; the first row is the input itself), weighted by the exponential kernel
/// π(z) = exp(−d(z)²/σ²) on the cosine distance d(z) = 1 − √(|z|/M) between z and the all-present vector, and a
/// weighted ridge regression with an unpenalised intercept as the local surrogate.
/// <para>Kernel width σ defaults to 0.25. The cosine distance already lies in [0, 1] whatever M is, so the width does
/// not need to grow with M: at σ = 0.25 removing 10% of the features keeps ~96% weight, removing half ~25%, removing
/// all ~1e-7 (close to the effective width of the reference LIME text explainer).</para>
/// No efficiency guarantee: the values need not sum to f(x) − f(∅). The weighted R² of the surrogate (fidelity) and its
/// intercept are reported.
/// </summary>
public sealed class Lime : PerturbationExplainer<Lime>
{
    /// <summary>Perturbed rows including the input itself (default 1000).</summary>
    public int SamplesValue { get; private set; } = 1000;

    /// <summary>Kernel width σ on the cosine distance (default 0.25).</summary>
    public double KernelWidthValue { get; private set; } = 0.25;

    /// <summary>Ridge penalty on the coefficients (default 1, as in the reference implementation).</summary>
    public double RidgeValue { get; private set; } = 1.0;

    /// <summary>Sets the number of perturbed rows.</summary>
    public Lime Samples(int samples)
    {
        if (samples < 2) throw new ArgumentOutOfRangeException(nameof(samples), $"LIME needs at least 2 samples, got {samples}.");
        SamplesValue = samples;
        return this;
    }

    /// <summary>Sets the kernel width σ.</summary>
    public Lime KernelWidth(double width)
    {
        if (!(width > 0)) throw new ArgumentOutOfRangeException(nameof(width), $"The kernel width must be positive, got {width}.");
        KernelWidthValue = width;
        return this;
    }

    /// <summary>Sets the ridge penalty (0 = ordinary weighted least squares).</summary>
    public Lime Ridge(double alpha)
    {
        if (!(alpha >= 0)) throw new ArgumentOutOfRangeException(nameof(alpha), $"The ridge penalty cannot be negative, got {alpha}.");
        RidgeValue = alpha;
        return this;
    }

    /// <summary>The kernel weight of a coalition with <paramref name="present"/> of <paramref name="m"/> features.</summary>
    public static double KernelWeight(int present, int m, double width)
    {
        double d = present == 0 ? 1 : 1 - Math.Sqrt((double)present / m);
        return Math.Exp(-d * d / (width * width));
    }

    /// <inheritdoc/>
    public override Attribution Explain(FeatureSet features, CoalitionValue value)
    {
        int m = features.Count;
        var evaluator = Evaluator(features, value);
        var rng = new Random(SeedValue);
        var rows = new List<bool[]>(SamplesValue) { evaluator.Uniform(true) };
        var order = Enumerable.Range(0, m).ToArray();
        for (int r = 1; r < SamplesValue && m > 0; r++)
        {
            int remove = rng.Next(1, m + 1);
            for (int i = 0; i < remove; i++)
            {
                int k = i + rng.Next(m - i);
                (order[i], order[k]) = (order[k], order[i]);
            }
            var z = evaluator.Uniform(true);
            for (int i = 0; i < remove; i++) z[order[i]] = false;
            rows.Add(z);
        }
        var y = evaluator.Evaluate(rows);
        double fx = y[0];
        double f0 = evaluator.Evaluate(evaluator.Uniform(false));
        var w = rows.Select(z => KernelWeight(z.Count(b => b), m, KernelWidthValue)).ToArray();

        var fit = WeightedRidge.Fit(rows, y, w, RidgeValue);
        var diagnostics = new Dictionary<string, double>
        {
            ["fidelity_r2"] = fit.WeightedR2,
            ["intercept"] = fit.Intercept,
            ["kernel_width"] = KernelWidthValue,
            ["local_prediction"] = fit.Intercept + fit.Coefficients.Sum(),
        };
        return new Attribution("lime", features.Names, fit.Coefficients, f0, fx)
        {
            Target = Target,
            Evaluations = evaluator.Evaluations,
            Samples = rows.Count,
            Diagnostics = diagnostics,
            Source = features,
        };
    }
}
