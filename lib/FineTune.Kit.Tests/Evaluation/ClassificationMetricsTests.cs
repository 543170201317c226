using FineTune.Kit.Evaluation;
using FineTune.Kit.Data;
using FineTune.Kit.Prompting;

namespace FineTune.Kit.Tests.Evaluation;

public class ClassificationMetricsTests
{
    // gold has three classes; the model never predicts "c"
    private static readonly string[] Gold = ["a", "a", "b", "b", "c", "c"];
    private static readonly string[] Pred = ["a", "a", "b", "a", "b", "b"];

    [Fact]
    public void Accuracy_counts_exact_matches()
    {
        Assert.Equal(0.5, ClassificationMetrics.Accuracy(Gold, Pred), 12);
    }

    [Fact]
    public void Per_class_metrics_match_hand_computation()
    {
        var m = ClassificationMetrics.PerClass(Gold, Pred).ToDictionary(x => x.Label);
        // a: tp 2, predicted 3, support 2
        Assert.Equal(2.0 / 3, m["a"].Precision, 12);
        Assert.Equal(1.0, m["a"].Recall, 12);
        Assert.Equal(0.8, m["a"].F1, 12);
        // b: tp 1, predicted 3, support 2 -> P 1/3, R 1/2, F1 = 2PR/(P+R) = 0.4
        Assert.Equal(1.0 / 3, m["b"].Precision, 12);
        Assert.Equal(0.5, m["b"].Recall, 12);
        Assert.Equal(0.4, m["b"].F1, 12);
        // c: never predicted -> precision 0 by convention, recall 0, F1 0
        Assert.Equal(0, m["c"].Precision);
        Assert.Equal(0, m["c"].F1);
        Assert.Equal(2, m["c"].Support);
        Assert.Equal(0, m["c"].Predicted);
    }

    [Fact]
    public void Macro_f1_counts_a_never_predicted_class_as_zero()
    {
        Assert.Equal((0.8 + 0.4 + 0.0) / 3, ClassificationMetrics.MacroF1(Gold, Pred), 12);
        // a declared class absent from gold and predictions also counts as 0 (as in scikit-learn with labels=...)
        Assert.Equal((0.8 + 0.4 + 0.0 + 0.0) / 4, ClassificationMetrics.MacroF1(Gold, Pred, ["a", "b", "c", "d"]), 12);
    }

    [Fact]
    public void Confusion_matrix_rows_are_gold_columns_are_predicted()
    {
        var cm = ConfusionMatrix.From(Gold, Pred);
        Assert.Equal(["a", "b", "c"], cm.Labels);
        Assert.Equal([[2, 0, 0], [1, 1, 0], [0, 2, 0]], cm.ToRows());
        Assert.Equal(2, cm["c", "b"]);
        Assert.Equal(6, cm.Total);
    }

    [Fact]
    public void Confusion_matrix_rejects_a_label_outside_the_declared_set()
    {
        var e = Assert.Throws<DataFormatException>(() => ConfusionMatrix.From(Gold, Pred, ["a", "b"]));
        Assert.Contains("example 4", e.Message);
        Assert.Contains("'c'", e.Message);
    }

    [Fact]
    public void Mismatched_lengths_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.Accuracy(["a"], ["a", "b"]));
    }

    [Fact]
    public void Slices_report_per_group_accuracy_and_gap()
    {
        string[] groups = ["en", "en", "en", "de", "de", "de"];
        var slices = SliceMetrics.Compute(groups, Gold, Pred);
        Assert.Equal(["de", "en"], slices.Select(s => s.Group));
        // en: a/a ok, a/a ok, b/b ok -> 1.0 ; de: b/a, c/b, c/b -> 0.0
        Assert.Equal(1.0, slices[1].Accuracy);
        Assert.Equal(0.0, slices[0].Accuracy);
        Assert.Equal(-0.5, slices[0].AccuracyGapToOverall, 12);
    }

    [Fact]
    public void Report_slices_by_a_named_column()
    {
        var examples = Gold.Select((g, i) => new LabeledExample($"t{i}", g,
            new Dictionary<string, string> { ["lang"] = i < 3 ? "en" : "de" })).ToArray();
        var outputs = Pred.Select(p => ClassifierOutput.LabelOnly(p)).ToArray();
        var report = ClassificationReport.Create(examples, outputs);
        var slices = report.SliceBy("lang");
        Assert.Equal(2, slices.Count);
        Assert.Null(report.Calibration); // label-only outputs have no confidence
        Assert.Throws<DataFormatException>(() => report.SliceBy("missing"));
    }

    [Fact]
    public void Summary_uses_linear_interpolation_quantiles()
    {
        var s = Summary.Of([1, 2, 3, 4, 10]);
        Assert.Equal(4, s.Mean, 12);
        Assert.Equal(3, s.Median, 12);
        // p90: position 0.9 * 4 = 3.6 -> 4 + 0.6 * (10 - 4) = 7.6
        Assert.Equal(7.6, s.P90, 12);
        Assert.Equal(10, s.Max);
    }
}
