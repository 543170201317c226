using System.Globalization;
using System.Text;
using FineTune.Kit.Data;
using FineTune.Kit.Prompting;

namespace FineTune.Kit.Evaluation;

/// <summary>
/// Everything about one classifier on one test set: accuracy and macro-F1 with bootstrap intervals, per-class metrics,
/// the confusion matrix, calibration (when probabilities are available), latency and prompt-token summaries.
/// </summary>
public sealed class ClassificationReport
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
