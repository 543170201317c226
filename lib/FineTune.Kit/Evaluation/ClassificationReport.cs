using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Data;
using FineTune.Kit.Plots;
using FineTune.Kit.Prompting;
using Plotly.NET;

namespace FineTune.Kit.Evaluation;

/// <summary>
/// Everything about one classifier on one test set: accuracy and macro-F1 with bootstrap intervals, per-class metrics,
/// the confusion matrix, calibration (when probabilities are available), latency and prompt-token summaries.
/// </summary>
public sealed class ClassificationReport : IReport
{
    private ClassificationReport(IReadOnlyList<LabeledExample> examples, IReadOnlyList<ClassifierOutput> outputs,
        IReadOnlyList<string> labels, Bootstrap bootstrap, int calibrationBins)
    {
        Examples = examples;
        Outputs = outputs;
        var gold = examples.Select(e => e.Label).ToArray();
        var predicted = outputs.Select(o => o.Label).ToArray();
        Labels = labels;
        // built first: it names the example and label when a label is outside the class list
        Confusion = ConfusionMatrix.From(gold, predicted, labels);
        Correct = gold.Zip(predicted, (g, p) => string.Equals(g, p, StringComparison.Ordinal)).ToArray();
        Accuracy = bootstrap.Accuracy(Correct);
        var index = labels.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i, StringComparer.Ordinal);
        var goldIds = gold.Select(g => index[g]).ToArray();
        var predIds = predicted.Select(p => index[p]).ToArray();
        MacroF1 = bootstrap.Of(gold.Length, sample => ClassificationMetrics.MacroF1(goldIds, predIds, labels.Count, sample));
        PerClass = ClassificationMetrics.PerClass(gold, predicted, labels);
        if (outputs.All(o => !double.IsNaN(o.Confidence)))
            Calibration = Evaluation.Calibration.Compute(outputs.Select(o => o.Confidence).ToArray(), Correct, calibrationBins);
        LatencyMs = Summary.Of(outputs.Where(o => o.Latency is not null).Select(o => o.Latency!.Value.TotalMilliseconds));
        PromptTokens = Summary.Of(outputs.Select(o => (double)o.PromptTokens));
    }

    /// <summary>
    /// Scores outputs against the gold labels of the same examples (same order). <paramref name="labels"/> fixes the
    /// class list (default: sorted union of gold and predicted labels).
    /// </summary>
    public static ClassificationReport Create(IReadOnlyList<LabeledExample> examples, IReadOnlyList<ClassifierOutput> outputs,
        IReadOnlyList<string>? labels = null, Bootstrap? bootstrap = null, int calibrationBins = 10)
    {
        ClassificationMetrics.CheckSameLength(examples, outputs);
        if (examples.Count == 0) throw new ArgumentException("cannot evaluate on an empty test set");
        var labelSet = labels ?? ClassificationMetrics.LabelSet(examples.Select(e => e.Label), outputs.Select(o => o.Label));
        return new ClassificationReport(examples, outputs, labelSet, bootstrap ?? new Bootstrap(), calibrationBins);
    }

    /// <summary>Runs the classifier on every example (timing calls it does not time itself) and scores it.</summary>
    public static ClassificationReport Evaluate(ITextClassifier classifier, IReadOnlyList<LabeledExample> examples,
        IReadOnlyList<string>? labels = null, Bootstrap? bootstrap = null) =>
        Create(examples, Run(classifier, examples), labels, bootstrap);

    /// <summary>Classifies every example; a missing latency is filled with the measured wall time of the call.</summary>
    public static IReadOnlyList<ClassifierOutput> Run(ITextClassifier classifier, IReadOnlyList<LabeledExample> examples)
    {
        var outputs = new ClassifierOutput[examples.Count];
        for (var i = 0; i < examples.Count; i++)
        {
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            var output = classifier.Classify(examples[i].Text);
            outputs[i] = output.Latency is null ? output with { Latency = System.Diagnostics.Stopwatch.GetElapsedTime(start) } : output;
        }
        return outputs;
    }

    /// <summary>The test examples, in order.</summary>
    public IReadOnlyList<LabeledExample> Examples { get; }
    /// <summary>The classifier outputs, aligned with <see cref="Examples"/>.</summary>
    public IReadOnlyList<ClassifierOutput> Outputs { get; }
    /// <summary>The class list used for macro averages and the confusion matrix.</summary>
    public IReadOnlyList<string> Labels { get; }
    /// <summary>Per-example correctness, aligned with <see cref="Examples"/> (input of paired tests).</summary>
    public IReadOnlyList<bool> Correct { get; }
    /// <summary>Accuracy with its percentile bootstrap interval.</summary>
    public ConfidenceInterval Accuracy { get; }
    /// <summary>Macro-F1 with its percentile bootstrap interval.</summary>
    public ConfidenceInterval MacroF1 { get; }
    /// <summary>Precision, recall, F1 and support per class.</summary>
    public IReadOnlyList<ClassMetrics> PerClass { get; }
    /// <summary>Gold × predicted counts.</summary>
    public ConfusionMatrix Confusion { get; }
    /// <summary>ECE and reliability bins; null when some output has no probability for its label.</summary>
    public CalibrationResult? Calibration { get; }
    /// <summary>Latency per request in milliseconds (only requests that report or were timed).</summary>
    public Summary LatencyMs { get; }
    /// <summary>Prompt tokens per request.</summary>
    public Summary PromptTokens { get; }

    /// <summary>Accuracy and macro-F1 per value of a column (e.g. language or user group), to check that no group is left behind.</summary>
    public IReadOnlyList<SliceMetrics> SliceBy(string column) => SliceBy(e => e.Column(column));

    /// <summary>Accuracy and macro-F1 per group given by a key function.</summary>
    public IReadOnlyList<SliceMetrics> SliceBy(Func<LabeledExample, string> group) =>
        SliceMetrics.Compute(Examples.Select(group).ToArray(), Examples.Select(e => e.Label).ToArray(),
            Outputs.Select(o => o.Label).ToArray());

    /// <summary>The confusion matrix heatmap and, when every output has a probability, the reliability diagram.</summary>
    public IReadOnlyList<GenericChart> Charts() => Calibration is { } cal
        ? [EvaluationCharts.ConfusionHeatmap(Confusion), EvaluationCharts.ReliabilityDiagram("classifier", cal)]
        : [EvaluationCharts.ConfusionHeatmap(Confusion)];

    /// <summary>
    /// <c>{"examples", "accuracy": {estimate, lower, upper, level}, "macro_f1": {...}, "per_class": [...], "labels",
    /// "confusion": [[...]], "calibration": {"ece", "mce", "bins": [...]} | null, "latency_ms": {...}, "prompt_tokens": {...}}</c>;
    /// numbers that are not finite are null.
    /// </summary>
    public string ToJson()
    {
        static JsonNode? N(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;
        static JsonObject Interval(ConfidenceInterval c) => new()
            { ["estimate"] = N(c.Estimate), ["lower"] = N(c.Lower), ["upper"] = N(c.Upper), ["level"] = N(c.Level) };
        static JsonObject Stats(Summary s) => new()
        {
            ["count"] = s.Count, ["mean"] = N(s.Mean), ["median"] = N(s.Median), ["p90"] = N(s.P90), ["p95"] = N(s.P95),
            ["p99"] = N(s.P99), ["min"] = N(s.Min), ["max"] = N(s.Max),
        };
        var o = new JsonObject
        {
            ["examples"] = Examples.Count,
            ["accuracy"] = Interval(Accuracy),
            ["macro_f1"] = Interval(MacroF1),
            ["labels"] = new JsonArray(Labels.Select(l => (JsonNode?)l).ToArray()),
            ["per_class"] = new JsonArray(PerClass.Select(m => (JsonNode?)new JsonObject
            {
                ["label"] = m.Label, ["precision"] = N(m.Precision), ["recall"] = N(m.Recall), ["f1"] = N(m.F1),
                ["support"] = m.Support, ["predicted"] = m.Predicted,
            }).ToArray()),
            ["confusion"] = new JsonArray(Confusion.ToRows().Select(r => (JsonNode?)new JsonArray(r.Select(c => (JsonNode?)c).ToArray())).ToArray()),
            ["calibration"] = Calibration is { } cal ? new JsonObject
            {
                ["ece"] = N(cal.ExpectedCalibrationError), ["mce"] = N(cal.MaxCalibrationError),
                ["bins"] = new JsonArray(cal.Bins.Select(b => (JsonNode?)new JsonObject
                {
                    ["lower"] = b.Lower, ["upper"] = b.Upper, ["count"] = b.Count,
                    ["mean_confidence"] = N(b.MeanConfidence), ["accuracy"] = N(b.Accuracy),
                }).ToArray()),
            } : null,
            ["latency_ms"] = Stats(LatencyMs),
            ["prompt_tokens"] = Stats(PromptTokens),
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>A page with the headline metrics, the per-class table and the charts.</summary>
    public string ToHtml()
    {
        var inv = CultureInfo.InvariantCulture;
        var page = new HtmlPage("Classification report")
            .Paragraph(string.Create(inv, $"Accuracy {Accuracy}, macro-F1 {MacroF1} on {Examples.Count} examples ({Accuracy.Level:P0} percentile bootstrap intervals)."))
            .Paragraph($"Latency: {LatencyMs}. Prompt tokens: {PromptTokens}.")
            .Table(["label", "precision", "recall", "F1", "support"], PerClass.Select(m => (IReadOnlyList<string>)
            [
                m.Label, m.Precision.ToString("0.000", inv), m.Recall.ToString("0.000", inv), m.F1.ToString("0.000", inv), m.Support.ToString(inv),
            ]));
        if (Calibration is { } cal) page.Paragraph(string.Create(inv, $"Expected calibration error {cal.ExpectedCalibrationError:0.000} ({cal.Bins.Count} bins)."));
        foreach (var chart in Charts()) page.Chart(chart);
        return page.ToHtml();
    }

    /// <summary>Writes report.html and report.json into <paramref name="directory"/> (see <see cref="ReportFolder"/>).</summary>
    public void Save(string directory) => ReportFolder.Write(this, directory);

    /// <summary>A plain-text summary: headline metrics, per-class table and confusion matrix.</summary>
    public override string ToString()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(string.Create(inv, $"accuracy {Accuracy}  macro-F1 {MacroF1}  (n={Examples.Count}, {Accuracy.Level:P0} bootstrap CI)"));
        if (Calibration is not null) sb.AppendLine(string.Create(inv, $"ECE {Calibration.ExpectedCalibrationError:0.000}"));
        sb.AppendLine("label        precision  recall     f1  support");
        foreach (var m in PerClass)
            sb.AppendLine(string.Create(inv, $"{m.Label,-12} {m.Precision,9:0.000} {m.Recall,7:0.000} {m.F1,6:0.000} {m.Support,8}"));
        sb.Append(Confusion);
        return sb.ToString();
    }
}
