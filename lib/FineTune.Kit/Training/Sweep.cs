using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Plots;
using Plotly.NET;
using Plotly.NET.CSharp;
using PChart = Plotly.NET.CSharp.Chart;

namespace FineTune.Kit.Training;

/// <summary>One set of hyperparameters to try.</summary>
public sealed record SweepPoint(double LearningRate, int Rank, double Alpha);

/// <summary>What one trial scored: validation loss (lower is better) and an optional metric (higher is better).</summary>
public sealed record TrialScore(double ValidationLoss, double? Metric = null);

/// <summary>One finished trial.</summary>
public sealed record SweepResult(SweepPoint Point, TrialScore Score, TimeSpan Elapsed);

/// <summary>
/// A small hyperparameter sweep over learning rate, LoRA rank and alpha: a full grid, or seeded random points
/// (learning rate drawn log-uniformly). The trial is yours — build the model, add the adapter, fit — so the sweep
/// stays a loop you can read: <c>Sweep.Grid([1e-3, 3e-3], [4, 8], [16]).Run(p => …)</c>.
/// </summary>
public sealed class Sweep
{
    private Sweep(IReadOnlyList<SweepPoint> points) => Points = points;

    /// <summary>The points, in the order they run.</summary>
    public IReadOnlyList<SweepPoint> Points { get; }

    /// <summary>Every combination of the given values.</summary>
    public static Sweep Grid(IEnumerable<double> learningRates, IEnumerable<int> ranks, IEnumerable<double> alphas) =>
        new((from lr in learningRates from r in ranks from a in alphas select new SweepPoint(lr, r, a)).ToList());

    /// <summary><paramref name="trials"/> random points: learning rate log-uniform in [min, max], rank and alpha from the lists.</summary>
    public static Sweep Random(int trials, double minLearningRate, double maxLearningRate, IReadOnlyList<int> ranks,
        IReadOnlyList<double> alphas, int seed = Seeds.Default)
    {
        if (minLearningRate <= 0 || maxLearningRate < minLearningRate) throw new ArgumentException("Learning rates need 0 < min <= max.");
        var rng = new Random(seed);
        return new(Enumerable.Range(0, trials).Select(_ => new SweepPoint(
            Math.Exp(Math.Log(minLearningRate) + rng.NextDouble() * (Math.Log(maxLearningRate) - Math.Log(minLearningRate))),
            ranks[rng.Next(ranks.Count)], alphas[rng.Next(alphas.Count)])).ToList());
    }

    /// <summary>Runs every trial in order and collects the scores.</summary>
    public SweepReport Run(Func<SweepPoint, TrialScore> trial, Action<SweepResult>? onTrial = null)
    {
        var results = new List<SweepResult>();
        foreach (var p in Points)
        {
            var clock = Stopwatch.StartNew();
            var result = new SweepResult(p, trial(p), clock.Elapsed);
            results.Add(result);
            onTrial?.Invoke(result);
        }
        return new SweepReport(results);
    }
}

/// <summary>The results of a sweep: the best trial, a table and a chart.</summary>
public sealed class SweepReport(IReadOnlyList<SweepResult> results) : IReport
{
    /// <summary>Every trial, in run order.</summary>
    public IReadOnlyList<SweepResult> Results { get; } = results;

    /// <summary>The best trial: highest metric when every trial has one, else lowest validation loss.</summary>
    public SweepResult Best => Results.All(r => r.Score.Metric is not null)
        ? Results.MaxBy(r => r.Score.Metric!.Value)!
        : Results.MinBy(r => r.Score.ValidationLoss)!;

    /// <summary>Rows for a table: lr, r, alpha, validation loss, metric, seconds.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Rows() => Results.Select(r => (IReadOnlyList<string>)
    [
        r.Point.LearningRate.ToString("G3", CultureInfo.InvariantCulture), r.Point.Rank.ToString(CultureInfo.InvariantCulture),
        r.Point.Alpha.ToString("G4", CultureInfo.InvariantCulture), r.Score.ValidationLoss.ToString("F4", CultureInfo.InvariantCulture),
        r.Score.Metric?.ToString("F4", CultureInfo.InvariantCulture) ?? "", r.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture),
    ]).ToList();

    /// <summary>Validation loss against learning rate (log axis), one series per rank.</summary>
    public GenericChart Chart() =>
        PChart.Combine(Results.GroupBy(r => r.Point.Rank).OrderBy(g => g.Key).Select(g =>
                PChart.Point<double, double, string>(x: g.Select(r => r.Point.LearningRate), y: g.Select(r => r.Score.ValidationLoss), Name: $"r={g.Key}")))
            .WithTitle("Sweep: validation loss by learning rate and rank")
            .WithXAxisStyle<double, double, string>(TitleText: "learning rate", AxisType: StyleParam.AxisType.Log)
            .WithYAxisStyle<double, double, string>(TitleText: "validation loss");

    /// <summary>The page's one chart, <see cref="Chart"/>.</summary>
    public IReadOnlyList<GenericChart> Charts() => [Chart()];

    /// <summary>
    /// <c>{"best": index, "trials": [{"learning_rate", "rank", "alpha", "validation_loss", "metric", "seconds"}]}</c>;
    /// numbers that are not finite (and a missing metric) are null.
    /// </summary>
    public string ToJson()
    {
        static JsonNode? N(double? v) => v is { } d && double.IsFinite(d) ? JsonValue.Create(d) : null;
        var trials = new JsonArray(Results.Select(r => (JsonNode?)new JsonObject
        {
            ["learning_rate"] = N(r.Point.LearningRate), ["rank"] = r.Point.Rank, ["alpha"] = N(r.Point.Alpha),
            ["validation_loss"] = N(r.Score.ValidationLoss), ["metric"] = N(r.Score.Metric), ["seconds"] = N(r.Elapsed.TotalSeconds),
        }).ToArray());
        var best = Results.Count == 0 ? -1 : Results.ToList().IndexOf(Best);
        return new JsonObject { ["best"] = best < 0 ? null : best, ["trials"] = trials }
            .ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Writes report.html and report.json into <paramref name="directory"/> (see <see cref="ReportFolder"/>).</summary>
    public void Save(string directory) => ReportFolder.Write(this, directory);

    /// <summary>An HTML page with the table and chart.</summary>
    public string ToHtml() => new HtmlPage("Hyperparameter sweep")
        .Paragraph($"Best: lr {Best.Point.LearningRate:G3}, r {Best.Point.Rank}, alpha {Best.Point.Alpha:G4} (validation loss {Best.Score.ValidationLoss:F4}).")
        .Table(["lr", "r", "alpha", "val loss", "metric", "seconds"], Rows()).Chart(Chart()).ToHtml();
}
