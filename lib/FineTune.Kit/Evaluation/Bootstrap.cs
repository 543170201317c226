namespace FineTune.Kit.Evaluation;

/// <summary>
/// Seeded percentile bootstrap: resample the examples with replacement <see cref="Resamples"/> times, recompute the
/// statistic, and take the (1-level)/2 and 1-(1-level)/2 quantiles. Same seed, same data, same interval.
/// </summary>
/// <param name="Resamples">Number of bootstrap resamples (1,000 is usual; 10,000 for tighter tails).</param>
/// <param name="Level">Confidence level in (0, 1).</param>
/// <param name="Seed">Seed of the resampling generator.</param>
public sealed record Bootstrap(int Resamples = 1000, double Level = 0.95, int Seed = Seeds.Default)
{
    /// <summary>Interval for the mean of per-example values (accuracy when the values are 0/1 correctness).</summary>
    public ConfidenceInterval Mean(IReadOnlyList<double> values)
    {
        Check(values.Count);
        var n = values.Count;
        var rng = new Random(Seed);
        var stats = new double[Resamples];
        for (var b = 0; b < Resamples; b++)
        {
            double sum = 0;
            for (var i = 0; i < n; i++) sum += values[rng.Next(n)];
            stats[b] = sum / n;
        }
        return Interval(values.Average(), stats);
    }

    /// <summary>Interval for accuracy from per-example correctness.</summary>
    public ConfidenceInterval Accuracy(IReadOnlyList<bool> correct) => Mean(correct.Select(c => c ? 1.0 : 0.0).ToArray());

    /// <summary>
    /// Interval for any statistic of the examples: <paramref name="statistic"/> receives the indices of one resample
    /// (length n, with repeats) and returns its value; on the identity indices it gives the point estimate.
    /// </summary>
    public ConfidenceInterval Of(int count, Func<int[], double> statistic)
    {
        Check(count);
        var rng = new Random(Seed);
        var sample = new int[count];
        var stats = new double[Resamples];
        for (var b = 0; b < Resamples; b++)
        {
            for (var i = 0; i < count; i++) sample[i] = rng.Next(count);
            stats[b] = statistic(sample);
        }
        return Interval(statistic(Enumerable.Range(0, count).ToArray()), stats);
    }

    /// <summary>
    /// Paired interval for mean(a - b), resampling examples jointly so that both systems see the same resample.
    /// Use it on per-example correctness of two approaches: if the interval contains 0 the difference is not significant.
    /// </summary>
    public ConfidenceInterval PairedDifference(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        ClassificationMetrics.CheckSameLength(a, b);
        return Mean(a.Zip(b, (x, y) => x - y).ToArray());
    }

    /// <summary>Paired interval for accuracy(a) - accuracy(b) on the same examples.</summary>
    public ConfidenceInterval PairedDifference(IReadOnlyList<bool> a, IReadOnlyList<bool> b) =>
        PairedDifference(a.Select(x => x ? 1.0 : 0.0).ToArray(), b.Select(x => x ? 1.0 : 0.0).ToArray());

    private ConfidenceInterval Interval(double estimate, double[] stats)
    {
        Array.Sort(stats);
        var alpha = (1 - Level) / 2;
        return new ConfidenceInterval(estimate, Quantile.OfSorted(stats, alpha), Quantile.OfSorted(stats, 1 - alpha), Level);
    }

    private void Check(int count)
    {
        if (count == 0) throw new ArgumentException("cannot bootstrap an empty set of examples");
        Validate();
    }

    /// <summary>
    /// Refuses a resample count below 1 or a level outside (0, 1) now, for callers that take a bootstrap and use it
    /// only after long work (generation, training).
    /// </summary>
    /// <exception cref="ArgumentException">The settings cannot give an interval.</exception>
    public void Validate()
    {
        if (Resamples < 1) throw new ArgumentException($"bootstrap needs at least one resample, got {Resamples}");
        if (Level is <= 0 or >= 1) throw new ArgumentException($"confidence level must be in (0, 1), got {Level}");
    }
}
