namespace FineTune.Kit.Evaluation.Comparison;

/// <summary>The measured row of one approach in a comparison.</summary>
/// <param name="Name">The approach name.</param>
/// <param name="Classification">Full classification metrics on the shared test set.</param>
/// <param name="TrainableParameters">Parameters updated by training.</param>
/// <param name="TrainSeconds">Training wall time in seconds.</param>
/// <param name="LatencyMs">Mean latency per request in milliseconds, NaN when unknown.</param>
/// <param name="PromptTokens">Mean prompt tokens per request.</param>
/// <param name="CostPer1k">Cost of 1,000 requests under the comparison's cost model.</param>
public sealed record ApproachResult(string Name, ClassificationReport Classification, long TrainableParameters, double TrainSeconds,
    double LatencyMs, double PromptTokens, double CostPer1k)
{
    /// <summary>Accuracy with its bootstrap interval.</summary>
    public ConfidenceInterval Accuracy => Classification.Accuracy;
    /// <summary>Macro-F1 with its bootstrap interval.</summary>
    public ConfidenceInterval MacroF1 => Classification.MacroF1;
}
