namespace FineTune.Kit.Evaluation.Comparison;

/// <summary>
/// A deliberately simple serving-cost model, in whatever currency you price in. Per request: prompt tokens ×
/// <see cref="PricePer1kPromptTokens"/>/1000 + latency seconds × <see cref="PricePerComputeSecond"/>; plus the training
/// bill (training seconds × <see cref="TrainingPricePerSecond"/>) spread over <see cref="AmortizeOverRequests"/> requests.
/// </summary>
public sealed record CostModel
{
    /// <summary>Price of 1,000 prompt tokens (API-style pricing; long few-shot prompts pay here).</summary>
    public double PricePer1kPromptTokens { get; init; }
    /// <summary>Price of one second of inference compute (self-hosted pricing; slow models pay here).</summary>
    public double PricePerComputeSecond { get; init; }
    /// <summary>Price of one second of training compute.</summary>
    public double TrainingPricePerSecond { get; init; }
    /// <summary>Number of requests the training cost is spread over (the expected lifetime traffic of the model).</summary>
    public long AmortizeOverRequests { get; init; } = 1_000_000;
    /// <summary>Currency symbol used in text ("$").</summary>
    public string Currency { get; init; } = "$";

    /// <summary>
    /// Cost of serving 1,000 requests, including the amortised share of training. An unknown (NaN) token count or
    /// latency contributes nothing, so price what you measured.
    /// </summary>
    public double CostPer1kRequests(double meanPromptTokens, double meanLatencyMs, double trainSeconds)
    {
        if (AmortizeOverRequests <= 0) throw new ArgumentException($"AmortizeOverRequests must be positive, got {AmortizeOverRequests}");
        var tokens = double.IsNaN(meanPromptTokens) ? 0 : meanPromptTokens;
        var latency = double.IsNaN(meanLatencyMs) ? 0 : meanLatencyMs;
        var perRequest = tokens / 1000 * PricePer1kPromptTokens + latency / 1000 * PricePerComputeSecond;
        var training = trainSeconds * TrainingPricePerSecond / AmortizeOverRequests;
        return 1000 * (perRequest + training);
    }
}
