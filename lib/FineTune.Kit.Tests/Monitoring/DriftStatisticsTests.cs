using FineTune.Kit.Monitoring;

namespace FineTune.Kit.Tests.Monitoring;

/// <summary>The drift statistics against values worked out by hand.</summary>
public class DriftStatisticsTests
{
    [Fact]
    public void Psi_of_two_bins_matches_the_formula()
    {
        // (0.25 - 0.5)·ln(0.25/0.5) + (0.75 - 0.5)·ln(0.75/0.5) = 0.25·ln 2 + 0.25·ln 1.5 = 0.25·ln 3
        Assert.Equal(0.25 * Math.Log(3), DriftStatistics.PsiFromShares([0.5, 0.5], [0.25, 0.75]), 12);
        Assert.Equal(0, DriftStatistics.PsiFromShares([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]), 12);
    }

    [Fact]
    public void Psi_of_a_sample_bins_at_the_reference_deciles_and_floors_empty_bins()
    {
        // reference 1..10: edges 1..9, a tenth in each bin; the sample all above 9 puts 1.0 in the last bin and the
        // floor (1e-4) in the nine others
        var reference = Enumerable.Range(1, 10).Select(i => (double)i).ToList();
        var expected = 9 * (1e-4 - 0.1) * Math.Log(1e-4 / 0.1) + (1 - 0.1) * Math.Log(1 / 0.1);
        Assert.Equal(expected, DriftStatistics.Psi(reference, [10.0, 10, 10, 10]), 9);
        Assert.Equal(0, DriftStatistics.Psi(reference, reference), 12);
    }

    [Fact]
    public void Psi_of_labels_compares_category_shares()
    {
        // reference a,a,b,b (0.5/0.5); sample a,b,b,b (0.25/0.75): the two-bin case above
        Assert.Equal(0.25 * Math.Log(3), DriftStatistics.Psi(["a", "a", "b", "b"], ["a", "b", "b", "b"]), 12);
    }

    [Fact]
    public void Ks_statistic_is_the_largest_gap_between_the_empirical_cdfs()
    {
        // CDFs of {1,2,3,4} and {3,4,5,6}: after 2 they are 0.5 and 0, after 3 0.75 and 0.25, after 4 1 and 0.5
        var ks = DriftStatistics.KolmogorovSmirnov([1.0, 2, 3, 4], [3.0, 4, 5, 6]);
        Assert.Equal(0.5, ks.Statistic, 12);
        // nₑ = 4·4/8 = 2, λ = (√2 + 0.12 + 0.11/√2)·0.5 = 0.805998, Q(λ) = 2 Σ (−1)^(k−1) e^(−2k²λ²) = 0.534416
        Assert.Equal(0.534416, ks.PValue, 5);
        // ties step together: {1,1,2} and {1,2,2} differ by 1/3 after 1 and agree after 2
        Assert.Equal(1.0 / 3, DriftStatistics.KolmogorovSmirnov([1.0, 1, 2], [1.0, 2, 2]).Statistic, 12);
        Assert.Equal(0, DriftStatistics.KolmogorovSmirnov([1.0, 2, 3], [3.0, 2, 1]).Statistic, 12);
    }

    [Fact]
    public void Kolmogorov_distribution_gives_the_textbook_critical_value()
    {
        // the 5 % critical value of the Kolmogorov distribution is λ = 1.358
        Assert.Equal(0.05, DriftStatistics.KolmogorovQ(1.358), 3);
        Assert.Equal(1, DriftStatistics.KolmogorovQ(0.1));
    }

    [Fact]
    public void Mmd_separates_different_vocabularies_and_not_a_split_of_one_sample()
    {
        var random = new Random(3);
        string Sentence(string[] words) => string.Join(' ', Enumerable.Range(0, 8).Select(_ => words[random.Next(words.Length)]));
        string[] shipping = ["parcel", "late", "courier", "tracking", "delivery", "box", "arrived", "address"];
        string[] solar = ["inverter", "panel", "firmware", "battery", "grid", "reboot", "voltage", "export"];
        var a = Enumerable.Range(0, 40).Select(_ => Sentence(shipping)).ToList();
        var same = Enumerable.Range(0, 40).Select(_ => Sentence(shipping)).ToList();
        var other = Enumerable.Range(0, 40).Select(_ => Sentence(solar)).ToList();
        var drift = DriftStatistics.Mmd(a, other, permutations: 100, seed: 1);
        var none = DriftStatistics.Mmd(a, same, permutations: 100, seed: 1);
        Assert.Equal(1.0 / 101, drift.PValue, 9);          // no relabelling comes close
        Assert.True(none.PValue > 0.05, $"p = {none.PValue}");
        Assert.True(drift.Statistic > 10 * none.Statistic);
    }

    [Fact]
    public void Mmd_of_vectors_matches_a_hand_computation_and_exact_enumeration()
    {
        // a = {0, 0}, b = {1, 1}: squared distances 0 within and 1 across; the median of the six pair distances
        // [0, 0, 1, 1, 1, 1] is 1, so k = 1 within and e^-1 across: MMD² = 1 + 1 − 2/e
        float[][] a = [[0f], [0f]], b = [[1f], [1f]];
        var result = DriftStatistics.Mmd(a, b, permutations: 3000, seed: 2);
        Assert.Equal(2 - 2 / Math.E, result.Statistic, 9);
        // of the 6 ways to split the four points in two pairs, 2 (this one and its mirror) reach that MMD²: p = 1/3
        Assert.InRange(result.PValue, 1.0 / 3 - 0.03, 1.0 / 3 + 0.03);

        // in 3 dimensions, shifted clouds separate and two draws of one cloud do not
        var random = new Random(4);
        float[] Point(double shift) => [(float)(random.NextDouble() + shift), (float)random.NextDouble(), (float)random.NextDouble()];
        var x = Enumerable.Range(0, 40).Select(_ => Point(0)).ToList();
        var same = Enumerable.Range(0, 40).Select(_ => Point(0)).ToList();
        var moved = Enumerable.Range(0, 40).Select(_ => Point(0.8)).ToList();
        Assert.Equal(1.0 / 101, DriftStatistics.Mmd(x, moved, permutations: 100, seed: 1).PValue, 9);
        Assert.True(DriftStatistics.Mmd(x, same, permutations: 100, seed: 1).PValue > 0.05);
        Assert.Throws<ArgumentException>(() => DriftStatistics.Mmd([[0f], [1f]], [[0f, 1f], [1f, 0f]]));
    }

    [Fact]
    public void Quantiles_interpolate_between_order_statistics()
    {
        double[] v = [10, 20, 30, 40, 50];
        Assert.Equal(30, DriftStatistics.Quantile(v, 0.5));
        Assert.Equal(48, DriftStatistics.Quantile(v, 0.95), 9);   // at = 3.8: 40 + 0.8·10
        Assert.Equal(10, DriftStatistics.Quantile(v, 0));
    }
}
