namespace FineTune.Kit.Explain;

/// <summary>Shared packaging of gradient attributions: per-feature sums and the completeness diagnostics.</summary>
internal static class GradientResult
{
    public static Attribution Build(string method, double[] perDimension, double f0, double fx, InputLayout layout,
        string target, int evaluations, int samples, Dictionary<string, double> diagnostics)
    {
        double total = perDimension.Sum();
        double gap = total - (fx - f0);
        diagnostics["completeness_gap"] = gap;
        diagnostics["relative_completeness_gap"] = Math.Abs(fx - f0) > 0 ? Math.Abs(gap) / Math.Abs(fx - f0) : Math.Abs(gap);
        return new Attribution(method, layout.Names, layout.Aggregate(perDimension), f0, fx)
        {
            Target = target,
            Evaluations = evaluations,
            Samples = samples,
            Diagnostics = diagnostics,
            Source = layout.Source,
        };
    }
}
