using FineTune.Kit.Evaluation;

namespace FineTune.Kit.Tests.Evaluation;

public class BootstrapTests
{
    private static bool[] Bernoulli(Random rng, int n, double p) => Enumerable.Range(0, n).Select(_ => rng.NextDouble() < p).ToArray();

    [Fact]
    public void Same_seed_gives_the_same_interval_and_another_seed_a_different_one()
    {
        var data = Bernoulli(new Random(1), 150, 0.7);
        var a = new Bootstrap(Resamples: 800, Seed: 7).Accuracy(data);
        var b = new Bootstrap(Resamples: 800, Seed: 7).Accuracy(data);
        Assert.Equal(a, b);
        // on continuous data another seed moves the bounds
        var values = Enumerable.Range(0, 150).Select(i => Math.Sin(i) + i % 7).ToArray();
        Assert.NotEqual(new Bootstrap(Resamples: 800, Seed: 7).Mean(values), new Bootstrap(Resamples: 800, Seed: 8).Mean(values));
        Assert.Equal(data.Count(x => x) / 150.0, a.Estimate, 12);
        Assert.True(a.Lower < a.Estimate && a.Estimate < a.Upper);
    }

    [Fact]
    public void Interval_of_a_constant_is_a_point()
    {
        var ci = new Bootstrap().Mean([0.25, 0.25, 0.25]);
        Assert.Equal(0.25, ci.Lower, 12);
        Assert.Equal(0.25, ci.Upper, 12);
    }

    [Fact]
    public void Ninety_five_percent_intervals_cover_the_true_accuracy_at_about_the_nominal_rate()
    {
        // 200 simulated test sets of 100 Bernoulli(0.7) outcomes; each gets its own seeded bootstrap
        var rng = new Random(2024);
        var covered = 0;
        for (var s = 0; s < 200; s++)
        {
            var ci = new Bootstrap(Resamples: 400, Level: 0.95, Seed: s).Accuracy(Bernoulli(rng, 100, 0.7));
            if (ci.Contains(0.7)) covered++;
        }
        var rate = covered / 200.0;
        Assert.InRange(rate, 0.90, 0.99);
    }

    [Fact]
    public void Interval_width_matches_the_normal_approximation()
    {
        // for n = 400 and p = 0.7 the 95% half-width is about 1.96 * sqrt(0.21 / 400) = 0.0449
        var data = Enumerable.Range(0, 400).Select(i => i % 10 < 7).ToArray();
        var ci = new Bootstrap(Resamples: 2000, Seed: 3).Accuracy(data);
        Assert.InRange(ci.HalfWidth, 0.040, 0.050);
    }

    [Fact]
    public void Generic_statistic_uses_identity_indices_for_the_estimate()
    {
        var gold = new[] { 0, 0, 1, 1, 2, 2 };
        var pred = new[] { 0, 0, 1, 0, 1, 1 };
        var ci = new Bootstrap(Resamples: 300, Seed: 1).Of(6, idx => ClassificationMetrics.MacroF1(gold, pred, 3, idx));
        Assert.Equal(0.4, ci.Estimate, 12);
        Assert.True(ci.Lower <= ci.Estimate && ci.Estimate <= ci.Upper);
    }

    [Fact]
    public void Paired_difference_of_identical_systems_is_exactly_zero()
    {
        var a = Bernoulli(new Random(5), 50, 0.6);
        var ci = new Bootstrap(Seed: 1).PairedDifference(a, a);
        Assert.Equal(0, ci.Lower);
        Assert.Equal(0, ci.Upper);
    }

    [Fact]
    public void Paired_difference_detects_a_consistent_improvement()
    {
        // b is a with 8 of its 100 errors fixed and no new ones: a 4-point paired gain
        var a = Enumerable.Range(0, 200).Select(i => i % 2 == 0).ToArray();
        var b = a.Select((x, i) => x || i % 13 == 1).ToArray();
        var ci = new Bootstrap(Seed: 1).PairedDifference(b, a);
        Assert.True(ci.Lower > 0, $"interval {ci}");
    }

    [Fact]
    public void Bad_settings_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new Bootstrap(Level: 1.5).Mean([1.0]));
        Assert.Throws<ArgumentException>(() => new Bootstrap().Mean([]));
    }
}
