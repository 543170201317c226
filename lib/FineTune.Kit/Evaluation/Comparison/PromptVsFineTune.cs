using FineTune.Kit.Data;
namespace FineTune.Kit.Evaluation.Comparison;

/// <summary>
/// Runs several approaches (zero-shot, few-shot, LoRA, full fine-tune...) on the same test split and compares them
/// on accuracy with confidence intervals, macro-F1, training effort, latency, prompt length and serving cost.
/// </summary>
/// <example><code>
/// var report = new PromptVsFineTune(test)
///     .Add(Approach.Named("zero-shot").Using(zeroShot))
///     .Add(Approach.Named("LoRA r=8").Using(lora).WithTrainableParameters(811_008).TrainedFor(TimeSpan.FromMinutes(14)))
///     .CostModel(new CostModel { PricePer1kPromptTokens = 0.0005, TrainingPricePerSecond = 0.001 })
///     .Run();
/// Console.WriteLine(report.Recommendation);
/// report.Save("comparison");   // comparison/report.html and comparison/report.json
/// </code></example>
public sealed class PromptVsFineTune
{
    private readonly IReadOnlyList<LabeledExample> _test;
    private readonly List<Approach> _approaches = [];
    private CostModel _cost = new();
    private Bootstrap _bootstrap = new(Resamples: 2000);
    private IReadOnlyList<string>? _labels;

    /// <summary>Compares approaches on this test split (every approach sees exactly these examples).</summary>
    public PromptVsFineTune(IReadOnlyList<LabeledExample> test)
    {
        if (test.Count == 0) throw new ArgumentException("the comparison needs a non-empty test set");
        _test = test;
    }

    /// <summary>Adds an approach; names must be unique.</summary>
    public PromptVsFineTune Add(Approach approach)
    {
        if (_approaches.Any(a => a.Name == approach.Name)) throw new ArgumentException($"an approach named '{approach.Name}' was already added");
        if (approach.Classifier is null && approach.Predictions is null)
            throw new ArgumentException($"approach '{approach.Name}' has neither a classifier (Using) nor predictions (WithPredictions)");
        if (approach.Predictions is { } p && p.Count != _test.Count)
            throw new ArgumentException($"approach '{approach.Name}' has {p.Count} predictions for {_test.Count} test examples");
        _approaches.Add(approach);
        return this;
    }

    /// <summary>Adds several approaches.</summary>
    public PromptVsFineTune AddRange(IEnumerable<Approach> approaches)
    {
        foreach (var a in approaches) Add(a);
        return this;
    }

    /// <summary>
    /// Sets the cost model (default: everything free, so cost is 0; <see cref="CostModel.ForHardware"/> prices the
    /// measured latency and training time at what the machine costs per hour).
    /// </summary>
    public PromptVsFineTune CostModel(CostModel cost)
    {
        foreach (var (name, value) in new[] { ("price per 1k prompt tokens", cost.PricePer1kPromptTokens),
                     ("price per compute second", cost.PricePerComputeSecond), ("training price per second", cost.TrainingPricePerSecond) })
            if (!double.IsFinite(value) || value < 0) throw new ArgumentException($"cost model: {name} must be a non-negative number, got {value}");
        if (cost.AmortizeOverRequests < 1) throw new ArgumentException($"cost model: the training cost must be spread over at least 1 request, got {cost.AmortizeOverRequests}");
        _cost = cost;
        return this;
    }

    /// <summary>Sets resamples, level and seed of every bootstrap (default 2,000 resamples, 95%, seed <see cref="Seeds.Default"/>).</summary>
    public PromptVsFineTune Bootstrap(Bootstrap bootstrap) { _bootstrap = bootstrap; return this; }

    /// <summary>Fixes the class list (default: every label seen in gold or predictions of any approach).</summary>
    public PromptVsFineTune Labels(IReadOnlyList<string> labels)
    {
        if (labels.Count == 0) throw new ArgumentException("the class list is empty", nameof(labels));
        _labels = labels;
        return this;
    }

    /// <summary>Runs the live classifiers, scores everything and writes the recommendation.</summary>
    public ComparisonReport Run()
    {
        if (_approaches.Count == 0) throw new ArgumentException("add at least one approach before running the comparison");
        var outputs = _approaches.Select(a => a.Predictions ?? ClassificationReport.Run(a.Classifier!, _test)).ToArray();
        var labels = _labels ?? ClassificationMetrics.LabelSet(_test.Select(e => e.Label), outputs.SelectMany(o => o).Select(o => o.Label));
        var results = _approaches.Select((a, i) =>
        {
            var report = ClassificationReport.Create(_test, outputs[i], labels, _bootstrap);
            var latency = report.LatencyMs.Count == 0 ? double.NaN : report.LatencyMs.Mean;
            var tokens = report.PromptTokens.Mean;
            var trainSeconds = a.TrainingTime.TotalSeconds;
            return new ApproachResult(a.Name, report, a.TrainableParameters, trainSeconds, latency, tokens,
                _cost.CostPer1kRequests(tokens, latency, trainSeconds));
        }).ToArray();
        return new ComparisonReport(results, _cost, _bootstrap);
    }
}
