using System.Globalization;
using System.Text;

namespace FineTune.Kit.Evaluation.Comparison;

/// <summary>A paired bootstrap comparison of two approaches on the same examples.</summary>
/// <param name="Better">The approach with the higher accuracy.</param>
/// <param name="Other">The approach it is compared with.</param>
/// <param name="Difference">Accuracy(Better) − accuracy(Other) with its paired bootstrap interval.</param>
public sealed record PairedComparison(ApproachResult Better, ApproachResult Other, ConfidenceInterval Difference)
{
    /// <summary>True when the interval of the difference excludes zero.</summary>
    public bool IsSignificant => Difference.Lower > 0 || Difference.Upper < 0;
}

/// <summary>Turns comparison numbers into a recommendation paragraph.</summary>
public static class Recommendation
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Approaches best first: accuracy, then macro-F1, then lower cost.</summary>
    public static IReadOnlyList<ApproachResult> Rank(IReadOnlyList<ApproachResult> results) => results
        .OrderByDescending(r => r.Accuracy.Estimate).ThenByDescending(r => r.MacroF1.Estimate).ThenBy(r => r.CostPer1k).ToArray();

    /// <summary>Paired bootstrap of per-example correctness: better − other.</summary>
    public static PairedComparison Compare(ApproachResult better, ApproachResult other, Bootstrap bootstrap) =>
        new(better, other, bootstrap.PairedDifference(better.Classification.Correct, other.Classification.Correct));

    /// <summary>
    /// The cheapest approach that is not significantly less accurate than <paramref name="best"/> (null when none is
    /// cheaper than the best).
    /// </summary>
    public static PairedComparison? CheapestAdequate(IReadOnlyList<ApproachResult> results, ApproachResult best, Bootstrap bootstrap) =>
        results.Where(r => r != best && r.CostPer1k < best.CostPer1k)
            .OrderBy(r => r.CostPer1k)
            .Select(r => Compare(best, r, bootstrap))
            .FirstOrDefault(c => !c.IsSignificant);

    /// <summary>The paragraph: who wins, by how much, whether the lead is inside the confidence interval, at what cost.</summary>
    public static string Write(IReadOnlyList<ApproachResult> results, CostModel cost, Bootstrap bootstrap)
    {
        var ranked = Rank(results);
        var best = ranked[0];
        var n = best.Classification.Examples.Count;
        var level = bootstrap.Level.ToString("P0", Inv).Replace(" ", ""); // "95%"
        var sb = new StringBuilder();
        if (ranked.Count == 1)
        {
            sb.Append(Inv, $"Only {best.Name} was evaluated: accuracy {Acc(best)} ({level} CI {Ci(best.Accuracy)}) at {Money(best.CostPer1k, cost)} per 1,000 requests.");
            return sb.ToString();
        }

        var runnerUp = Compare(best, ranked[1], bootstrap);
        var points = Points(runnerUp.Difference.Estimate);
        if (runnerUp.IsSignificant)
            sb.Append(Inv, $"{best.Name} wins with accuracy {Acc(best)} ({level} CI {Ci(best.Accuracy)}), {points} points above the runner-up {runnerUp.Other.Name} ({Acc(runnerUp.Other)}); the paired bootstrap {level} CI of the difference, {PointsCi(runnerUp.Difference)} points, excludes zero, so the lead is significant on these {n} test examples.");
        else
            sb.Append(Inv, $"{best.Name} has the highest accuracy ({Acc(best)}, {level} CI {Ci(best.Accuracy)}), but its lead of {points} points over {runnerUp.Other.Name} ({Acc(runnerUp.Other)}) is inside the confidence interval: the paired bootstrap {level} CI of the difference, {PointsCi(runnerUp.Difference)} points, includes zero, so the two cannot be told apart on these {n} test examples.");

        sb.Append(Inv, $" {best.Name} costs {Money(best.CostPer1k, cost)} per 1,000 requests{Effort(best)}.");

        var cheap = CheapestAdequate(results, best, bootstrap);
        if (cheap is not null && cheap.Other == runnerUp.Other)
        {
            sb.Append(Inv, $" {cheap.Other.Name} costs {Money(cheap.Other.CostPer1k, cost)} per 1,000 requests{Effort(cheap.Other)}, so it is the cheapest adequate approach and the better buy unless those {points} points matter.");
        }
        else if (cheap is not null)
        {
            sb.Append(Inv, $" The cheapest adequate approach is {cheap.Other.Name} at {Money(cheap.Other.CostPer1k, cost)} per 1,000 requests{Effort(cheap.Other)}: it trails {best.Name} by {Points(cheap.Difference.Estimate)} points, a difference inside the confidence interval (paired {level} CI {PointsCi(cheap.Difference)} points), so it is the better buy unless those points matter.");
        }
        else
        {
            var cheapest = results.Where(r => r.CostPer1k < best.CostPer1k).OrderBy(r => r.CostPer1k).FirstOrDefault();
            if (cheapest is null)
                sb.Append(" No other approach is cheaper, so there is no trade-off to make.");
            else
            {
                var c = Compare(best, cheapest, bootstrap);
                sb.Append(Inv, $" Every cheaper approach is significantly less accurate: the cheapest, {cheapest.Name}, saves {Money(best.CostPer1k - cheapest.CostPer1k, cost)} per 1,000 requests but loses {Points(c.Difference.Estimate)} points (paired {level} CI {PointsCi(c.Difference)}).");
            }
        }

        var front = ParetoFront.Of(results.Select(r => (r.Accuracy.Estimate, r.CostPer1k)).ToArray());
        sb.Append(Inv, $" Pareto front (accuracy vs cost): {string.Join(", ", front.Select(i => results[i].Name))}.");
        return sb.ToString();
    }

    private static string Acc(ApproachResult r) => r.Accuracy.Estimate.ToString("0.000", Inv);
    private static string Ci(ConfidenceInterval ci) => string.Create(Inv, $"[{ci.Lower:0.000}, {ci.Upper:0.000}]");
    private static string Points(double fraction) => (fraction * 100).ToString("0.0", Inv);
    private static string PointsCi(ConfidenceInterval ci) => string.Create(Inv, $"[{ci.Lower * 100:+0.0;-0.0;0.0}, {ci.Upper * 100:+0.0;-0.0;0.0}]");

    private static string Effort(ApproachResult r) => r.TrainableParameters == 0 && r.TrainSeconds == 0
        ? " with no training"
        : string.Create(Inv, $" after training {FormatCount(r.TrainableParameters)} parameters for {FormatDuration(r.TrainSeconds)}");

    /// <summary>"$0.0123": three significant digits below 1, cents above.</summary>
    public static string Money(double amount, CostModel cost) => cost.Currency + (amount == 0 ? "0"
        : Math.Abs(amount) >= 1 ? amount.ToString("#,0.00", Inv)
        : amount.ToString("0." + new string('#', Math.Max(2, 2 - (int)Math.Floor(Math.Log10(Math.Abs(amount))))), Inv));

    /// <summary>"811k", "1.2M", "7.0B".</summary>
    public static string FormatCount(long n) => n switch
    {
        >= 1_000_000_000 => (n / 1e9).ToString("0.0", Inv) + "B",
        >= 1_000_000 => (n / 1e6).ToString("0.0", Inv) + "M",
        >= 1_000 => (n / 1e3).ToString("0", Inv) + "k",
        _ => n.ToString(Inv),
    };

    /// <summary>"45 s", "12.5 min", "3.2 h".</summary>
    public static string FormatDuration(double seconds) => seconds switch
    {
        >= 3600 => (seconds / 3600).ToString("0.0", Inv) + " h",
        >= 60 => (seconds / 60).ToString("0.0", Inv) + " min",
        _ => seconds.ToString("0", Inv) + " s",
    };
}
