using Plotly.NET;
using static FineTune.Kit.Plots.PlotlyTraces;

namespace FineTune.Kit.Evaluation;

/// <summary>Plotly charts of evaluation results: reliability diagrams, confusion matrices, loss curves.</summary>
public static class EvaluationCharts
{
    /// <summary>
    /// Reliability diagram: accuracy against mean confidence for every non-empty bin, one line per model, with the
    /// diagonal of perfect calibration. Hovering a point shows its bin and count.
    /// </summary>
    public static GenericChart ReliabilityDiagram(IEnumerable<(string Name, CalibrationResult Calibration)> models)
    {
        var traces = new List<Trace>
        {
            Trace("scatter", ("x", new[] { 0.0, 1.0 }), ("y", new[] { 0.0, 1.0 }), ("mode", "lines"), ("name", "perfect calibration"),
                ("line", Obj(("dash", "dash"), ("color", "gray")))),
        };
        foreach (var (name, cal) in models)
        {
            var bins = cal.Bins.Where(b => b.Count > 0).ToArray();
            traces.Add(Trace("scatter", ("x", bins.Select(b => b.MeanConfidence).ToArray()), ("y", bins.Select(b => b.Accuracy).ToArray()),
                ("mode", "lines+markers"), ("name", FormattableString.Invariant($"{name} (ECE {cal.ExpectedCalibrationError:0.000})")),
                ("text", bins.Select(b => FormattableString.Invariant($"({b.Lower:0.0#}, {b.Upper:0.0#}]: n={b.Count}")).ToArray())));
        }
        return Chart(traces, "Reliability diagram", "mean confidence", "accuracy", 650, 550,
            ("xaxis", Obj(("title", Obj(("text", "mean confidence"))), ("range", new[] { 0.0, 1.0 }))),
            ("yaxis", Obj(("title", Obj(("text", "accuracy"))), ("range", new[] { 0.0, 1.0 }))));
    }

    /// <summary>Reliability diagram of one model.</summary>
    public static GenericChart ReliabilityDiagram(string name, CalibrationResult calibration) => ReliabilityDiagram([(name, calibration)]);

    /// <summary>Confusion matrix heatmap: gold labels down, predicted labels across, counts written in the cells.</summary>
    public static GenericChart ConfusionHeatmap(ConfusionMatrix matrix, string title = "Confusion matrix") =>
        Chart([ConfusionTrace(matrix, "x", "y", showScale: true)], title, "predicted", "gold", 520, 460,
            ("yaxis", Obj(("title", Obj(("text", "gold"))), ("autorange", "reversed"))));

    /// <summary>A heatmap trace of a confusion matrix on the given axes (for side-by-side grids).</summary>
    internal static Trace ConfusionTrace(ConfusionMatrix matrix, string xAxis, string yAxis, bool showScale, int? zMax = null)
    {
        var rows = matrix.ToRows();
        return Trace("heatmap", ("z", rows), ("x", matrix.Labels.ToArray()), ("y", matrix.Labels.ToArray()),
            ("zmin", zMax is null ? null : 0), ("zmax", zMax),
            ("text", rows.Select(r => r.Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToArray()),
            ("texttemplate", "%{text}"), ("colorscale", "Blues"), ("showscale", showScale), ("xaxis", xAxis), ("yaxis", yAxis),
            ("hovertemplate", "gold %{y}, predicted %{x}: %{z}<extra></extra>"));
    }

    /// <summary>Training and validation loss against step, with a star where validation loss was best.</summary>
    public static GenericChart LossCurves(IReadOnlyList<TrainingRecord> history, OverfittingDiagnosis? diagnosis = null)
    {
        var traces = new List<Trace>
        {
            Trace("scatter", ("x", history.Select(r => r.Step).ToArray()), ("y", history.Select(r => r.TrainLoss).ToArray()),
                ("mode", "lines"), ("name", "train loss")),
        };
        var val = history.Where(r => r.ValLoss is not null).ToArray();
        if (val.Length > 0)
            traces.Add(Trace("scatter", ("x", val.Select(r => r.Step).ToArray()), ("y", val.Select(r => r.ValLoss!.Value).ToArray()),
                ("mode", "lines+markers"), ("name", "validation loss")));
        if (diagnosis is not null)
            traces.Add(Trace("scatter", ("x", new[] { diagnosis.BestValidationStep }), ("y", new[] { diagnosis.BestValidationLoss }),
                ("mode", "markers"), ("marker", Obj(("symbol", "star"), ("size", 14))), ("name", $"best validation (step {diagnosis.BestValidationStep})")));
        return Chart(traces, diagnosis?.IsOverfitting == true ? "Loss curves: over-fitting" : "Loss curves", "step", "loss");
    }
}
