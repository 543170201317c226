namespace FineTune.Kit.Explain;

/// <summary>
/// Exact Shapley values by evaluating all 2^M coalitions: φ_j = Σ_{S∌j} |S|!(M−|S|−1)!/M! · (f(S∪{j}) − f(S)).
/// Satisfies efficiency (Σφ = f(x) − f(∅)), symmetry, null player and additivity exactly. Cost grows as 2^M, so the
/// number of features is limited (default 14, at most 20).
/// </summary>
public sealed class ExactShapley : PerturbationExplainer<ExactShapley>
{
    /// <summary>The hard ceiling on <see cref="MaxFeatures"/>: 2^20 coalitions.</summary>
    public const int FeatureCeiling = 20;

    /// <summary>Refuses inputs with more features than this (default 14 = 16,384 coalitions).</summary>
    public int MaxFeatures { get; private set; } = 14;

    /// <summary>Raises the feature limit (up to <see cref="FeatureCeiling"/>).</summary>
    public ExactShapley AllowingUpTo(int maxFeatures)
    {
        if (maxFeatures < 1 || maxFeatures > FeatureCeiling)
            throw new ArgumentOutOfRangeException(nameof(maxFeatures), $"Exact Shapley allows 1..{FeatureCeiling} features, got {maxFeatures}.");
        MaxFeatures = maxFeatures;
        return this;
    }

    /// <inheritdoc/>
    public override Attribution Explain(FeatureSet features, CoalitionValue value)
    {
        int m = features.Count;
        if (m > MaxFeatures)
            throw new ArgumentException(
                $"Exact Shapley needs 2^{m} evaluations for {m} features, above the limit of {MaxFeatures}. " +
                "Group tokens into words or spans, raise the limit with AllowingUpTo, or use KernelShap or OwenValues.");
        int count = 1 << m;
        var v = new double[count];
        var evaluator = Evaluator(features, value);
        // enumerate in batches so memory stays at one batch of masks
        for (int start = 0; start < count; start += BatchSize)
        {
            int n = Math.Min(BatchSize, count - start);
            var batch = new bool[n][];
            for (int i = 0; i < n; i++) batch[i] = MaskOf(start + i, m);
            var values = evaluator.Evaluate(batch);
            Array.Copy(values, 0, v, start, n);
        }
        var weight = new double[Math.Max(m, 1)];
        for (int s = 0; s < m; s++) weight[s] = LinearSystems.ShapleyWeight(m, s);
        var phi = new double[m];
        for (int s = 0; s < count; s++)
        {
            int size = System.Numerics.BitOperations.PopCount((uint)s);
            for (int j = 0; j < m; j++)
                if ((s & (1 << j)) == 0) phi[j] += weight[size] * (v[s | (1 << j)] - v[s]);
        }
        return new Attribution("exact_shapley", features.Names, phi, v[0], v[count - 1])
        {
            Target = Target,
            Evaluations = evaluator.Evaluations,
            Samples = count,
            Source = features,
        };
    }

    internal static bool[] MaskOf(long bits, int m)
    {
        var mask = new bool[m];
        for (int j = 0; j < m; j++) mask[j] = (bits >> j & 1) == 1;
        return mask;
    }
}
