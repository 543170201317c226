using System.Text.Json;
using System.Text.Json.Serialization;
using FineTune.Kit.Plots;
using Plotly.NET;
using Plotly.NET.CSharp;
using PChart = Plotly.NET.CSharp.Chart;

namespace FineTune.Kit.Training;

/// <summary>What happened at one optimizer step.</summary>
public sealed record StepMetrics
{
    /// <summary>1-based optimizer step.</summary>
    [JsonPropertyName("step")] public int Step { get; init; }
    /// <summary>Fractional epoch reached.</summary>
    [JsonPropertyName("epoch")] public double Epoch { get; init; }
    /// <summary>Mean training loss per loss token over the step.</summary>
    [JsonPropertyName("loss")] public double Loss { get; init; }
    /// <summary>Validation loss, on evaluation steps.</summary>
    [JsonPropertyName("val_loss")] public double? ValLoss { get; init; }
    /// <summary>Validation metric from the user's evaluator, on evaluation steps.</summary>
    [JsonPropertyName("val_metric")] public double? ValMetric { get; init; }
    /// <summary>Learning rate used.</summary>
    [JsonPropertyName("lr")] public double Lr { get; init; }
    /// <summary>Global gradient norm before clipping.</summary>
    [JsonPropertyName("grad_norm")] public double GradNorm { get; init; }
    /// <summary>Real (non-padding) tokens in this step's batches.</summary>
    [JsonPropertyName("tokens")] public long Tokens { get; init; }
    /// <summary>Real tokens processed per second in this step.</summary>
    [JsonPropertyName("tokens_per_second")] public double TokensPerSecond { get; init; }
    /// <summary>Resident memory of the process, MB.</summary>
    [JsonPropertyName("rss_mb")] public double RssMb { get; init; }
}

/// <summary>The metrics of a run, as data, JSON and charts.</summary>
public sealed class TrainingHistory : IReport
{
    private readonly List<StepMetrics> _steps = [];

    /// <summary>Every step so far.</summary>
    public IReadOnlyList<StepMetrics> Steps => _steps;

    /// <summary>Steps that carry a validation loss.</summary>
    public IEnumerable<StepMetrics> Evaluations => _steps.Where(s => s.ValLoss is not null);

    internal void Add(StepMetrics m) => _steps.Add(m);

    internal void Restore(IEnumerable<StepMetrics> steps) { _steps.Clear(); _steps.AddRange(steps); }

    /// <summary>The history as a JSON array.</summary>
    public string ToJson() => JsonSerializer.Serialize(_steps, new JsonSerializerOptions { WriteIndented = true });

    /// <summary>Reads a history written by <see cref="ToJson"/>.</summary>
    public static TrainingHistory FromJson(string json)
    {
        var h = new TrainingHistory();
        h.Restore(JsonSerializer.Deserialize<List<StepMetrics>>(json) ?? []);
        return h;
    }

    /// <summary>Loss curves (train and validation) against steps.</summary>
    public GenericChart LossChart()
    {
        var train = PChart.Line<int, double, string>(x: _steps.Select(s => s.Step), y: _steps.Select(s => s.Loss), Name: "train loss");
        var evals = Evaluations.ToList();
        var charts = new List<GenericChart> { train };
        if (evals.Count > 0)
            charts.Add(PChart.Line<int, double, string>(x: evals.Select(s => s.Step), y: evals.Select(s => s.ValLoss!.Value), Name: "validation loss", ShowMarkers: true));
        return PChart.Combine(charts).WithTitle("Loss")
            .WithXAxisStyle<double, double, string>(TitleText: "step").WithYAxisStyle<double, double, string>(TitleText: "loss per token");
    }

    /// <summary>Learning rate, gradient norm and throughput against steps.</summary>
    public GenericChart DiagnosticsChart()
    {
        var steps = _steps.Select(s => s.Step).ToArray();
        return PChart.Grid(
        [
            PChart.Line<int, double, string>(x: steps, y: _steps.Select(s => s.Lr), Name: "learning rate"),
            PChart.Line<int, double, string>(x: steps, y: _steps.Select(s => s.GradNorm), Name: "grad norm"),
            PChart.Line<int, double, string>(x: steps, y: _steps.Select(s => s.TokensPerSecond), Name: "tokens/s"),
        ], 3, 1).WithTitle("Learning rate, gradient norm, throughput").WithSize(900, 700);
    }

    /// <summary>Both charts.</summary>
    public IReadOnlyList<GenericChart> Charts() => [LossChart(), DiagnosticsChart()];

    /// <summary>An HTML page with the charts (plotly.js embedded).</summary>
    public string ToHtml() => Charts().Aggregate(new HtmlPage("Training history"), (p, c) => p.Chart(c)).ToHtml();

    /// <summary>Writes report.html and report.json into <paramref name="directory"/> (see <see cref="ReportFolder"/>).</summary>
    public void Save(string directory) => ReportFolder.Write(this, directory);

    /// <summary>The loss chart (what notebooks display for a history).</summary>
    public GenericChart Chart() => LossChart();
}
