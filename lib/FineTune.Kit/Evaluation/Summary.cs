using System.Globalization;

namespace FineTune.Kit.Evaluation;

/// <summary>Distribution summary of a per-request quantity (latency in ms, prompt tokens).</summary>
public sealed record Summary(int Count, double Mean, double Median, double P90, double P95, double P99, double Min, double Max)
{
    /// <summary>Summarises the values; an empty list gives Count 0 and NaN everywhere else.</summary>
    public static Summary Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return new Summary(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        return new Summary(sorted.Length, sorted.Average(), Quantile.OfSorted(sorted, 0.5), Quantile.OfSorted(sorted, 0.9),
            Quantile.OfSorted(sorted, 0.95), Quantile.OfSorted(sorted, 0.99), sorted[0], sorted[^1]);
    }

    /// <summary>"mean 12.3, p50 11.0, p95 20.1, max 31.0".</summary>
    public override string ToString() => Count == 0
        ? "n/a"
        : string.Create(CultureInfo.InvariantCulture, $"mean {Mean:0.##}, p50 {Median:0.##}, p95 {P95:0.##}, max {Max:0.##} (n={Count})");
}
