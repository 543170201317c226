namespace FineTune.Kit.Explain;

/// <summary>
/// Occlusion: remove one feature (or a sliding window of <c>Window</c> consecutive features, moved by
/// <c>Stride</c>) and record how much f drops: f(x) − f(x without the window). With windows, each feature gets
/// the mean drop of the windows that cover it. Cheap (about M evaluations) and deterministic; no efficiency guarantee,
/// and it misses effects that need two features removed together.
/// </summary>
public sealed class Occlusion : PerturbationExplainer<Occlusion>
{
    /// <summary>Features removed together (default 1).</summary>
    public int WindowValue { get; private set; } = 1;

    /// <summary>How far the window moves each step (default 1).</summary>
    public int StrideValue { get; private set; } = 1;

    /// <summary>Removes windows of <paramref name="size"/> consecutive features, moved by <paramref name="stride"/>.</summary>
    public Occlusion Window(int size, int stride = 1)
    {
        if (size < 1 || stride < 1) throw new ArgumentException($"Window size and stride must be positive, got {size} and {stride}.");
        WindowValue = size;
        StrideValue = stride;
        return this;
    }

    /// <inheritdoc/>
    public override Attribution Explain(FeatureSet features, CoalitionValue value)
    {
        int m = features.Count;
        var evaluator = Evaluator(features, value);
        int w = Math.Min(WindowValue, Math.Max(m, 1));
        var starts = new List<int>();
        for (int s = 0; s + w <= m; s += StrideValue) starts.Add(s);
        // the last features must be covered even when the stride does not land on them
        if (m > 0 && (starts.Count == 0 || starts[^1] + w < m)) starts.Add(m - w);
        var masks = new List<bool[]> { evaluator.Uniform(false), evaluator.Uniform(true) };
        foreach (var s in starts)
        {
            var mask = evaluator.Uniform(true);
            for (int j = s; j < s + w; j++) mask[j] = false;
            masks.Add(mask);
        }
        var v = evaluator.Evaluate(masks);
        double f0 = v[0], fx = v[1];
        var sum = new double[m];
        var covered = new int[m];
        for (int k = 0; k < starts.Count; k++)
            for (int j = starts[k]; j < starts[k] + w; j++)
            {
                sum[j] += fx - v[k + 2];
                covered[j]++;
            }
        var values = sum.Select((s, j) => s / covered[j]).ToArray();
        return new Attribution(w == 1 ? "occlusion" : $"occlusion_w{w}", features.Names, values, f0, fx)
        {
            Target = Target,
            Evaluations = evaluator.Evaluations,
            Samples = starts.Count,
            Diagnostics = new Dictionary<string, double> { ["window"] = w, ["stride"] = StrideValue },
            Source = features,
        };
    }
}
