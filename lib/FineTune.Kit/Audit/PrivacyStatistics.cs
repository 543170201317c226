using FineTune.Kit.Evaluation;

namespace FineTune.Kit.Audit;

/// <summary>
/// The statistics the privacy checks share: an unpaired bootstrap for a difference between two independent groups of
/// examples (training versus held-out), and the area under the ROC curve of a score that should separate them.
/// </summary>
internal static class PrivacyStatistics
{
    /// <summary>
    /// Percentile interval for mean(<paramref name="a"/>) − mean(<paramref name="b"/>): each resample draws each group
    /// with replacement at its own size (the groups are different examples, so they are not paired).
    /// </summary>
    public static ConfidenceInterval MeanDifference(IReadOnlyList<double> a, IReadOnlyList<double> b, Bootstrap bootstrap) =>
        Unpaired(a, b, bootstrap, (x, y) => x.Average() - y.Average());

    /// <summary>Percentile interval for any statistic of two independent groups, resampled separately.</summary>
    public static ConfidenceInterval Unpaired(IReadOnlyList<double> a, IReadOnlyList<double> b, Bootstrap bootstrap,
        Func<IReadOnlyList<double>, IReadOnlyList<double>, double> statistic)
    {
        if (a.Count == 0 || b.Count == 0) throw new ArgumentException("both groups need at least one example to compare them");
        bootstrap.Validate();
        var rng = new Random(bootstrap.Seed);
        var stats = new double[bootstrap.Resamples];
        var ra = new double[a.Count];
        var rb = new double[b.Count];
        for (var r = 0; r < stats.Length; r++)
        {
            for (var i = 0; i < ra.Length; i++) ra[i] = a[rng.Next(a.Count)];
            for (var i = 0; i < rb.Length; i++) rb[i] = b[rng.Next(b.Count)];
            stats[r] = statistic(ra, rb);
        }
        Array.Sort(stats);
        var alpha = (1 - bootstrap.Level) / 2;
        return new ConfidenceInterval(statistic(a, b), Quantile.OfSorted(stats, alpha), Quantile.OfSorted(stats, 1 - alpha), bootstrap.Level);
    }

    /// <summary>
    /// Area under the ROC curve of <paramref name="positive"/> scores against <paramref name="negative"/> ones, where a
    /// higher score should mean positive: the share of (positive, negative) pairs ordered rightly, ties counting half
    /// (the Mann–Whitney U statistic over the number of pairs). 0.5 is chance.
    /// </summary>
    public static double Auc(IReadOnlyList<double> positive, IReadOnlyList<double> negative)
    {
        if (positive.Count == 0 || negative.Count == 0) throw new ArgumentException("the AUC needs at least one example of each group");
        // sort once and count, for each positive, the negatives below it and tied with it
        var neg = negative.Order().ToArray();
        double wins = 0;
        foreach (var p in positive)
        {
            int below = LowerBound(neg, p), notAbove = UpperBound(neg, p);
            wins += below + 0.5 * (notAbove - below);
        }
        return wins / ((double)positive.Count * negative.Count);
    }

    private static int LowerBound(double[] sorted, double x)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi) { var mid = (lo + hi) / 2; if (sorted[mid] < x) lo = mid + 1; else hi = mid; }
        return lo;
    }

    private static int UpperBound(double[] sorted, double x)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi) { var mid = (lo + hi) / 2; if (sorted[mid] <= x) lo = mid + 1; else hi = mid; }
        return lo;
    }

    /// <summary>A finite value, or null for JSON (NaN and infinities are not JSON numbers).</summary>
    public static double? Finite(double v) => double.IsFinite(v) ? v : null;

    /// <summary>[lower, upper] of an interval as a JSON array.</summary>
    public static System.Text.Json.Nodes.JsonArray Interval(ConfidenceInterval ci) => [Finite(ci.Lower), Finite(ci.Upper)];

    /// <summary>Indented JSON with readable non-ASCII text.</summary>
    public static readonly System.Text.Json.JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>One-line JSON with readable non-ASCII text (JSON Lines rows).</summary>
    public static readonly System.Text.Json.JsonSerializerOptions Compact = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>A number for tables: up to four decimals, invariant culture.</summary>
    public static string Format(double v) => double.IsFinite(v) ? v.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture) : "–";

    /// <summary>An interval for tables: "0.812 [0.776, 0.846]".</summary>
    public static string Format(ConfidenceInterval ci) => ci.ToString();
}
