namespace FineTune.Kit.Evaluation;

/// <summary>Quantiles with linear interpolation between order statistics (NumPy's default "linear" method).</summary>
public static class Quantile
{
    /// <summary>The q-quantile (q in [0, 1]) of already sorted values.</summary>
    public static double OfSorted(IReadOnlyList<double> sorted, double q)
    {
        if (sorted.Count == 0) throw new ArgumentException("quantile of an empty list is undefined");
        var h = (sorted.Count - 1) * Math.Clamp(q, 0, 1);
        var lo = (int)Math.Floor(h);
        var hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }

    /// <summary>The q-quantile of values in any order.</summary>
    public static double Of(IEnumerable<double> values, double q) => OfSorted(values.Order().ToArray(), q);
}
