namespace FineTune.Kit.Evaluation.Comparison;

/// <summary>
/// A deliberately simple serving-cost model, in whatever currency you price in. Per request: prompt tokens ×
/// <see cref="PricePer1kPromptTokens"/>/1000 + latency seconds × <see cref="PricePerComputeSecond"/>; plus the training
/// bill (training seconds × <see cref="TrainingPricePerSecond"/>) spread over <see cref="AmortizeOverRequests"/> requests.
/// A model you run yourself is not free: <see cref="ForHardware"/> prices the measured latency and the training time at
/// what the machine costs per hour.
/// </summary>
public sealed record CostModel
{
    /// <summary>The hourly price <see cref="ForHardware"/> uses unless told otherwise (in the report's currency).</summary>
    public const double DefaultHardwarePricePerHour = 0.10;

    /// <summary>The request volume <see cref="ForHardware"/> spreads the training cost over unless told otherwise.</summary>
    public const long DefaultAmortizeOverRequests = 100_000;

    /// <summary>
    /// Self-hosted pricing: each request costs its latency on a machine priced at <paramref name="pricePerHour"/>, and
    /// the training time, on a machine priced at <paramref name="trainingPricePerHour"/> (the same machine by default),
    /// is spread over <paramref name="amortizeOverRequests"/> requests. Per 1,000 requests:
    /// 1000 · (latency s · price/3600 + training s · training price/3600 / volume).
    /// </summary>
    /// <exception cref="ArgumentException">A negative or non-finite price, or a volume below 1.</exception>
    public static CostModel ForHardware(double pricePerHour = DefaultHardwarePricePerHour, long amortizeOverRequests = DefaultAmortizeOverRequests,
        double? trainingPricePerHour = null, string currency = "$")
    {
        var training = trainingPricePerHour ?? pricePerHour;
        if (!double.IsFinite(pricePerHour) || pricePerHour < 0) throw new ArgumentException($"hardware price per hour must be a non-negative number, got {pricePerHour}");
        if (!double.IsFinite(training) || training < 0) throw new ArgumentException($"training hardware price per hour must be a non-negative number, got {training}");
        if (amortizeOverRequests < 1) throw new ArgumentException($"the request volume the training cost is spread over must be at least 1, got {amortizeOverRequests}");
        return new CostModel
        {
            PricePerComputeSecond = pricePerHour / 3600, TrainingPricePerSecond = training / 3600,
            AmortizeOverRequests = amortizeOverRequests, Currency = currency,
        };
    }

    /// <summary>The price of one hour of inference compute (<see cref="PricePerComputeSecond"/> × 3600).</summary>
    public double HardwarePricePerHour => PricePerComputeSecond * 3600;

    /// <summary>The price of one hour of training compute (<see cref="TrainingPricePerSecond"/> × 3600).</summary>
    public double TrainingPricePerHour => TrainingPricePerSecond * 3600;

    /// <summary>True when nothing is priced: every approach then costs 0 and the cost axis says nothing.</summary>
    public bool IsFree => PricePer1kPromptTokens == 0 && PricePerComputeSecond == 0 && TrainingPricePerSecond == 0;

    /// <summary>How costs are computed, in one sentence for reports and chart titles.</summary>
    public string Describe()
    {
        if (IsFree) return "nothing priced: every approach costs 0";
        var parts = new List<string>();
        if (PricePer1kPromptTokens != 0) parts.Add($"{Recommendation.Money(PricePer1kPromptTokens, this)} per 1k prompt tokens");
        if (PricePerComputeSecond != 0) parts.Add($"measured latency × {Recommendation.Money(HardwarePricePerHour, this)} per hour");
        if (TrainingPricePerSecond != 0)
            parts.Add($"training time × {Recommendation.Money(TrainingPricePerHour, this)} per hour spread over {AmortizeOverRequests.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} requests");
        return string.Join(" + ", parts);
    }

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
