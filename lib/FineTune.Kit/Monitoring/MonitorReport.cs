using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Io;
using FineTune.Kit.Plots;
using Plotly.NET;
using static FineTune.Kit.Plots.PlotlyTraces;

namespace FineTune.Kit.Monitoring;

/// <summary>
/// What <see cref="DriftMonitor"/> found: alerts (each with its threshold and evidence), every metric it computed, and
/// the charts of report.html (latency and input length over time, length distributions, drift scores, label mix).
/// </summary>
public sealed class MonitorReport : IReport
{
    private readonly IReadOnlyList<RequestRecord> _earlier, _recent;
    private readonly IReadOnlyList<double> _referenceWords;
    private readonly IReadOnlyList<string> _referenceLabels;

    internal MonitorReport(IReadOnlyList<DriftAlert> alerts, IReadOnlyDictionary<string, double?> metrics, IReadOnlyList<string> notes,
        IReadOnlyList<RequestRecord> earlier, IReadOnlyList<RequestRecord> recent, IReadOnlyList<double> referenceWords,
        IReadOnlyList<string> referenceLabels)
    {
        Alerts = alerts;
        Metrics = metrics;
        Notes = notes;
        _earlier = earlier;
        _recent = recent;
        _referenceWords = referenceWords;
        _referenceLabels = referenceLabels;
    }

    /// <summary>The checks that fired.</summary>
    public IReadOnlyList<DriftAlert> Alerts { get; }
    /// <summary>Every statistic by name (null where there was nothing to measure).</summary>
    public IReadOnlyDictionary<string, double?> Metrics { get; }
    /// <summary>Checks that were skipped and why.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary><c>{"alerts": [...], "metrics": {...}, "notes": [...]}</c>.</summary>
    public string ToJson()
    {
        var alerts = new JsonArray();
        foreach (var a in Alerts)
            alerts.Add(new JsonObject { ["check"] = a.Check, ["value"] = a.Value, ["threshold"] = a.Threshold, ["evidence"] = a.Evidence });
        var metrics = new JsonObject();
        foreach (var (k, v) in Metrics) metrics[k] = v is { } d && double.IsFinite(d) ? d : null;
        var notes = new JsonArray(Notes.Select(n => (JsonNode?)n).ToArray());
        return new JsonObject { ["alerts"] = alerts, ["metrics"] = metrics, ["notes"] = notes }
            .ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>The report's charts.</summary>
    public IReadOnlyList<GenericChart> Charts()
    {
        var all = _earlier.Concat(_recent).ToList();
        var charts = new List<GenericChart>();
        var ok = all.Where(r => r.Status < 400).ToList();
        charts.Add(Chart([
            Trace("scatter", ("x", ok.Select(r => r.Time.UtcDateTime.ToString("O")).ToArray()), ("y", ok.Select(r => r.LatencyMs).ToArray()),
                ("mode", "markers"), ("name", "latency (ms)")),
            Trace("scatter", ("x", all.Where(r => r.Status >= 400).Select(r => r.Time.UtcDateTime.ToString("O")).ToArray()),
                ("y", all.Where(r => r.Status >= 400).Select(r => r.LatencyMs).ToArray()), ("mode", "markers"), ("name", "failed"),
                ("marker", Obj(("color", "crimson"), ("symbol", "x")))),
        ], "Latency over time", "time", "milliseconds"));
        var inputs = all.Where(r => r.Status < 400 && r.InputChars > 0).ToList();
        charts.Add(Chart([
            Trace("scatter", ("x", inputs.Select(r => r.Time.UtcDateTime.ToString("O")).ToArray()), ("y", inputs.Select(r => r.InputWords).ToArray()),
                ("mode", "markers"), ("name", "input words")),
        ], "Input length over time", "time", "words"));
        charts.Add(Chart([
            Trace("histogram", ("x", _referenceWords.ToArray()), ("name", "reference"), ("histnorm", "probability"), ("opacity", 0.6)),
            Trace("histogram", ("x", _recent.Where(r => r.Status < 400 && r.InputChars > 0).Select(r => r.InputWords).ToArray()),
                ("name", "recent traffic"), ("histnorm", "probability"), ("opacity", 0.6)),
        ], "Input length: reference versus recent traffic", "words", "share", ("barmode", "overlay")));
        var scores = Metrics.Where(p => p.Key.EndsWith("_psi") && p.Value is not null).ToList();
        if (scores.Count > 0)
            charts.Add(Chart([
                Trace("bar", ("x", scores.Select(p => p.Key).ToArray()), ("y", scores.Select(p => p.Value!.Value).ToArray()), ("name", "PSI")),
                Trace("scatter", ("x", scores.Select(p => p.Key).ToArray()), ("y", scores.Select(_ => 0.25).ToArray()), ("mode", "lines"),
                    ("name", "alert threshold"), ("line", Obj(("dash", "dash"), ("color", "crimson")))),
            ], "Drift scores (PSI)", null, "PSI"));
        var predicted = _recent.Where(r => r.Label is not null).Select(r => r.Label!).ToList();
        if (predicted.Count > 0)
        {
            var labels = _referenceLabels.Concat(predicted).Distinct().Order(StringComparer.Ordinal).ToList();
            double Share(IReadOnlyList<string> xs, string l) => xs.Count == 0 ? 0 : (double)xs.Count(x => x == l) / xs.Count;
            charts.Add(Quick.GroupedBars("Label mix: reference versus recent predictions", labels,
                [("reference", labels.Select(l => Share(_referenceLabels, l))), ("recent", labels.Select(l => Share(predicted, l)))]));
        }
        return charts;
    }

    /// <summary>A self-contained HTML page: alerts, metrics and charts.</summary>
    public string ToHtml()
    {
        var page = new HtmlPage("Traffic monitoring");
        page.Heading(Alerts.Count == 0 ? "No alerts" : $"{Alerts.Count} alert(s)");
        if (Alerts.Count > 0)
            page.Table(["check", "value", "threshold", "evidence"],
                Alerts.Select(a => (IReadOnlyList<string>)[a.Check, Format(a.Value), Format(a.Threshold), a.Evidence]));
        foreach (var note in Notes) page.Paragraph(note);
        page.Heading("Metrics");
        page.Table(["metric", "value"], Metrics.Select(p => (IReadOnlyList<string>)[p.Key, p.Value is { } v ? Format(v) : "–"]));
        foreach (var chart in Charts()) page.Chart(chart);
        return page.ToHtml();
    }

    /// <inheritdoc/>
    public void Save(string directory) => ReportFolder.Write(this, directory);

    private static string Format(double v) => v.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture);
}
