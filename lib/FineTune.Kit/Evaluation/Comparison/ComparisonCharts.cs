using Plotly.NET;
using static FineTune.Kit.Plots.PlotlyTraces;

namespace FineTune.Kit.Evaluation.Comparison;

/// <summary>The charts of a comparison report (Plotly.NET), each available on its own or all together.</summary>
public sealed class ComparisonCharts
{
    private readonly ComparisonReport _report;

    internal ComparisonCharts(ComparisonReport report) => _report = report;

    /// <summary>Grouped bars of accuracy and macro-F1 per approach, with their bootstrap intervals as error bars.</summary>
    public GenericChart Metrics()
    {
        var names = _report.Approaches.Select(a => a.Name).ToArray();
        Trace Bars(string metric, Func<ApproachResult, ConfidenceInterval> pick)
        {
            var ci = _report.Approaches.Select(pick).ToArray();
            return Trace("bar", ("x", names), ("y", ci.Select(c => c.Estimate).ToArray()), ("name", metric),
                ("error_y", Obj(("type", "data"), ("symmetric", false),
                    ("array", ci.Select(c => c.Upper - c.Estimate).ToArray()),
                    ("arrayminus", ci.Select(c => c.Estimate - c.Lower).ToArray()))));
        }
        var level = _report.Bootstrap.Level.ToString("P0", System.Globalization.CultureInfo.InvariantCulture).Replace(" ", "");
        return Chart([Bars("accuracy", a => a.Accuracy), Bars("macro-F1", a => a.MacroF1)],
            $"Accuracy and macro-F1 with {level} confidence intervals", "approach", "score", ("barmode", "group"));
    }

    /// <summary>Accuracy against cost per 1,000 requests, one labelled point per approach, the Pareto front highlighted.</summary>
    public GenericChart AccuracyVsCost()
    {
        var all = _report.Approaches;
        var front = _report.ParetoFront;
        var points = Trace("scatter", ("x", all.Select(a => a.CostPer1k).ToArray()), ("y", all.Select(a => a.Accuracy.Estimate).ToArray()),
            ("mode", "markers+text"), ("text", all.Select(a => a.Name).ToArray()), ("textposition", "top center"),
            ("name", "approaches"), ("marker", Obj(("size", 10), ("color", "steelblue"))),
            ("error_y", Obj(("type", "data"), ("symmetric", false),
                ("array", all.Select(a => a.Accuracy.Upper - a.Accuracy.Estimate).ToArray()),
                ("arrayminus", all.Select(a => a.Accuracy.Estimate - a.Accuracy.Lower).ToArray()))));
        var frontLine = Trace("scatter", ("x", front.Select(a => a.CostPer1k).ToArray()), ("y", front.Select(a => a.Accuracy.Estimate).ToArray()),
            ("mode", "lines+markers"), ("name", "Pareto front"), ("line", Obj(("dash", "dash"), ("color", "crimson"))),
            ("marker", Obj(("size", 14), ("color", "rgba(0,0,0,0)"), ("line", Obj(("color", "crimson"), ("width", 2))))));
        var how = System.Net.WebUtility.HtmlEncode(_report.CostModel.Describe());
        return Chart([points, frontLine], $"Accuracy versus cost (Pareto front highlighted)<br><sup>{how}</sup>",
            $"cost per 1,000 requests ({_report.CostModel.Currency})", "accuracy");
    }

    /// <summary>
    /// The confusion matrices of all approaches, one per row (side by side, long label names overlapped the
    /// neighbouring matrix and ran off the page), sharing one colour scale from 0 to the largest count.
    /// </summary>
    public GenericChart ConfusionMatrices()
    {
        var k = _report.Approaches.Count;
        var zMax = _report.Approaches.Max(a => a.Classification.Confusion.ToRows().SelectMany(r => r).DefaultIfEmpty(0).Max());
        var traces = _report.Approaches.Select((a, i) =>
            EvaluationCharts.ConfusionTrace(a.Classification.Confusion, Axis("x", i), Axis("y", i), showScale: i == 0, zMax: Math.Max(1, zMax))).ToArray();
        // the gap between rows leaves room for the tilted predicted labels of one matrix and the title of the next
        var layout = new List<(string, object?)> { ("grid", Obj(("rows", k), ("columns", 1), ("pattern", "independent"), ("ygap", 0.4))) };
        var annotations = new List<object>();
        for (var i = 0; i < k; i++)
        {
            layout.Add((AxisKey("xaxis", i), Obj(("title", Obj(("text", "predicted"), ("standoff", 4))), ("tickangle", -30), ("automargin", true))));
            layout.Add((AxisKey("yaxis", i), Obj(("title", Obj(("text", "gold"))), ("autorange", "reversed"), ("automargin", true))));
            annotations.Add(Obj(("text", "<b>" + System.Net.WebUtility.HtmlEncode(_report.Approaches[i].Name) + "</b>"), ("showarrow", false),
                ("xref", Axis("x", i) + " domain"), ("yref", Axis("y", i) + " domain"), ("x", 0.5), ("y", 1.02),
                ("xanchor", "center"), ("yanchor", "bottom")));
        }
        layout.Add(("annotations", annotations.ToArray()));
        return Chart(traces, "Confusion matrices (rows: gold, columns: predicted)", null, null, 760, 440 * k + 120, layout.ToArray());
    }

    /// <summary>Reliability diagram of every approach that reports probabilities; null when none does.</summary>
    public GenericChart? Reliability()
    {
        var calibrated = _report.Approaches.Where(a => a.Classification.Calibration is not null)
            .Select(a => (a.Name, a.Classification.Calibration!)).ToArray();
        return calibrated.Length == 0 ? null : EvaluationCharts.ReliabilityDiagram(calibrated);
    }

    /// <summary>Every chart, in report order.</summary>
    public IEnumerable<GenericChart> All()
    {
        yield return Metrics();
        yield return AccuracyVsCost();
        yield return ConfusionMatrices();
        if (Reliability() is { } r) yield return r;
    }

    private static string Axis(string letter, int i) => i == 0 ? letter : letter + (i + 1);
    private static string AxisKey(string axis, int i) => i == 0 ? axis : axis + (i + 1);
}
