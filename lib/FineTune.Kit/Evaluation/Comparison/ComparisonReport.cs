using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using FineTune.Kit.Plots;
using Plotly.NET;

namespace FineTune.Kit.Evaluation.Comparison;

/// <summary>
/// The outcome of a prompting-versus-fine-tuning comparison: one row per approach, the paired comparisons behind the
/// recommendation, the Pareto front of accuracy versus cost, charts, and JSON/HTML export.
/// </summary>
public sealed class ComparisonReport : IReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    internal ComparisonReport(IReadOnlyList<ApproachResult> approaches, CostModel cost, Bootstrap bootstrap)
    {
        Approaches = approaches;
        CostModel = cost;
        Bootstrap = bootstrap;
        var ranked = Comparison.Recommendation.Rank(approaches);
        Best = ranked[0];
        if (ranked.Count > 1) BestVsRunnerUp = Comparison.Recommendation.Compare(ranked[0], ranked[1], bootstrap);
        CheapestAdequate = Comparison.Recommendation.CheapestAdequate(approaches, Best, bootstrap);
        ParetoFront = Comparison.ParetoFront.Of(approaches.Select(a => (a.Accuracy.Estimate, a.CostPer1k)).ToArray())
            .Select(i => approaches[i]).ToArray();
        Recommendation = Comparison.Recommendation.Write(approaches, cost, bootstrap);
    }

    /// <summary>One result per approach, in the order they were added.</summary>
    public IReadOnlyList<ApproachResult> Approaches { get; }
    /// <summary>The cost model used for <see cref="ApproachResult.CostPer1k"/>.</summary>
    public CostModel CostModel { get; }
    /// <summary>The bootstrap settings behind every interval.</summary>
    public Bootstrap Bootstrap { get; }
    /// <summary>The most accurate approach (ties: macro-F1, then cost).</summary>
    public ApproachResult Best { get; }
    /// <summary>Paired comparison of the best approach with the runner-up; null with a single approach.</summary>
    public PairedComparison? BestVsRunnerUp { get; }
    /// <summary>The cheapest approach not significantly less accurate than the best, if one is cheaper than the best.</summary>
    public PairedComparison? CheapestAdequate { get; }
    /// <summary>Approaches on the accuracy-versus-cost Pareto front, cheapest first.</summary>
    public IReadOnlyList<ApproachResult> ParetoFront { get; }
    /// <summary>The recommendation paragraph.</summary>
    public string Recommendation { get; }

    /// <summary>Header of <see cref="Rows"/>.</summary>
    public static IReadOnlyList<string> Header { get; } =
        ["approach", "accuracy ± CI", "macro-F1", "trainable params", "train time", "latency (ms)", "prompt tokens", "cost / 1k requests"];

    /// <summary>The comparison table, one row per approach.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Rows() => Approaches.Select(a => (IReadOnlyList<string>)
    [
        a.Name,
        string.Create(Inv, $"{a.Accuracy.Estimate:0.000} [{a.Accuracy.Lower:0.000}, {a.Accuracy.Upper:0.000}]"),
        a.MacroF1.Estimate.ToString("0.000", Inv),
        a.TrainableParameters == 0 ? "0" : Comparison.Recommendation.FormatCount(a.TrainableParameters),
        a.TrainSeconds == 0 ? "—" : Comparison.Recommendation.FormatDuration(a.TrainSeconds),
        double.IsNaN(a.LatencyMs) ? "n/a" : a.LatencyMs.ToString("0.0", Inv),
        a.PromptTokens.ToString("0.#", Inv),
        Comparison.Recommendation.Money(a.CostPer1k, CostModel),
    ]).ToArray();

    /// <summary>
    /// The machine-readable summary:
    /// <c>{"approaches": [{"name", "accuracy", "accuracy_ci": [lo, hi], "macro_f1", "trainable_params", "train_seconds",
    /// "latency_ms", "prompt_tokens", "cost_per_1k"}], "recommendation": "…"}</c>. Unknown numbers are null.
    /// </summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("approaches");
            foreach (var a in Approaches)
            {
                w.WriteStartObject();
                w.WriteString("name", a.Name);
                Number(w, "accuracy", a.Accuracy.Estimate);
                w.WriteStartArray("accuracy_ci");
                Value(w, a.Accuracy.Lower);
                Value(w, a.Accuracy.Upper);
                w.WriteEndArray();
                Number(w, "macro_f1", a.MacroF1.Estimate);
                w.WriteNumber("trainable_params", a.TrainableParameters);
                Number(w, "train_seconds", a.TrainSeconds);
                Number(w, "latency_ms", a.LatencyMs);
                Number(w, "prompt_tokens", a.PromptTokens);
                Number(w, "cost_per_1k", a.CostPer1k);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteString("recommendation", Recommendation);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>
    /// Accuracy per value of a test-set column for every approach (fairness check: does the fine-tune help every
    /// language or user group, or only the majority?).
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<SliceMetrics>> SliceBy(string column) =>
        Approaches.ToDictionary(a => a.Name, a => a.Classification.SliceBy(column));

    /// <summary>The charts of this comparison, each by name (metrics, accuracy versus cost, confusion matrices, reliability).</summary>
    public ComparisonCharts NamedCharts => new(this);

    /// <summary>Every chart, in page order: metrics, accuracy versus cost, confusion matrices, reliability (when any approach has probabilities).</summary>
    public IReadOnlyList<GenericChart> Charts() => NamedCharts.All().ToArray();

    /// <summary>An HTML page: recommendation, table, charts, and per-approach details.</summary>
    public HtmlPage ToHtmlPage(string title = "Prompting versus fine-tuning")
    {
        var n = Best.Classification.Examples.Count;
        var page = new HtmlPage(title)
            .Paragraph(string.Create(Inv, $"{Approaches.Count} approaches on the same {n} test examples; intervals are {Bootstrap.Level:P0} percentile bootstrap intervals ({Bootstrap.Resamples} resamples, seed {Bootstrap.Seed})."))
            .Heading("Recommendation").Paragraph(Recommendation)
            .Heading("Comparison").Table(Header, Rows())
            .Paragraph(CostDescription())
            .Heading("Charts");
        foreach (var chart in Charts()) page.Chart(chart);
        page.Heading("Per-approach details");
        foreach (var a in Approaches)
        {
            page.Heading(a.Name, 3)
                .Table(["label", "precision", "recall", "F1", "support"], a.Classification.PerClass.Select(m => (IReadOnlyList<string>)
                [
                    m.Label, m.Precision.ToString("0.000", Inv), m.Recall.ToString("0.000", Inv), m.F1.ToString("0.000", Inv),
                    m.Support.ToString(Inv),
                ]));
            var details = new List<string>
            {
                $"Macro-F1 {a.MacroF1}.",
                $"Latency: {a.Classification.LatencyMs}. Prompt tokens: {a.Classification.PromptTokens}.",
            };
            if (a.Classification.Calibration is { } cal)
                details.Add(string.Create(Inv, $"Expected calibration error {cal.ExpectedCalibrationError:0.000} ({cal.Bins.Count} bins)."));
            page.Raw("<p>" + WebUtility.HtmlEncode(string.Join(" ", details)) + "</p>");
        }
        return page;
    }

    /// <summary>The HTML page as a string (a different title: <see cref="ToHtmlPage"/>).</summary>
    public string ToHtml() => ToHtmlPage().ToHtml();

    /// <summary>Writes report.html and report.json into <paramref name="directory"/> (see <see cref="ReportFolder"/>).</summary>
    public void Save(string directory) => ReportFolder.Write(this, directory);

    /// <summary>A plain-text rendering: table then recommendation.</summary>
    public override string ToString()
    {
        var rows = new List<IReadOnlyList<string>> { Header };
        rows.AddRange(Rows());
        var widths = Enumerable.Range(0, Header.Count).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var sb = new StringBuilder();
        foreach (var r in rows) sb.AppendLine(string.Join("  ", r.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
        return sb.AppendLine().AppendLine(Recommendation).ToString();
    }

    private string CostDescription() => $"Cost per 1,000 requests: {CostModel.Describe()}.";

    private static void Number(Utf8JsonWriter w, string name, double value)
    {
        w.WritePropertyName(name);
        Value(w, value);
    }

    private static void Value(Utf8JsonWriter w, double value)
    {
        if (double.IsFinite(value)) w.WriteNumberValue(value);
        else w.WriteNullValue();
    }
}
