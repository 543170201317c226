namespace FineTune.Kit.Explain;

/// <summary>Any method that explains a value function over features (lets callers run and compare several).</summary>
public interface ICoalitionExplainer
{
    /// <summary>Explains f(x) over the given features.</summary>
    Attribution Explain(FeatureSet features, CoalitionValue value);
}

/// <summary>
/// Settings every perturbation method shares: how many coalitions go to the value function per call, the random seed
/// and a label for what f measures. The fluent setters return the concrete explainer so calls chain.
/// </summary>
public abstract class PerturbationExplainer<TSelf> : ICoalitionExplainer where TSelf : PerturbationExplainer<TSelf>
{
    /// <summary>Coalitions per call of the value function (default 64).</summary>
    public int BatchSize { get; private set; } = 64;

    /// <summary>Seed of the method's own random generator; the same seed gives the same result.</summary>
    public int SeedValue { get; private set; } = Seeds.Default;

    /// <summary>What f measures, copied into the result.</summary>
    public string Target { get; private set; } = "";

    /// <summary>Receives a report after every call of the value function.</summary>
    public IProgress<ExplainProgress>? Progress { get; private set; }

    /// <summary>Checked before every call of the value function.</summary>
    public CancellationToken CancellationValue { get; private set; }

    /// <summary>Sends at most <paramref name="batchSize"/> coalitions per call.</summary>
    public TSelf InBatchesOf(int batchSize)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"Batch size must be at least 1, got {batchSize}.");
        BatchSize = batchSize;
        return (TSelf)this;
    }

    /// <summary>Seeds the sampling.</summary>
    public TSelf Seed(int seed)
    {
        SeedValue = seed;
        return (TSelf)this;
    }

    /// <summary>Labels what f measures (e.g. "log p(' yes')").</summary>
    public TSelf ForTarget(string target)
    {
        Target = target;
        return (TSelf)this;
    }

    /// <summary>Reports progress after every batch (model calls can take minutes on long inputs).</summary>
    public TSelf ReportingTo(IProgress<ExplainProgress> progress)
    {
        Progress = progress;
        return (TSelf)this;
    }

    /// <summary>Stops between batches when the token is cancelled (throws <see cref="OperationCanceledException"/>).</summary>
    public TSelf Cancellation(CancellationToken cancellation)
    {
        CancellationValue = cancellation;
        return (TSelf)this;
    }

    /// <summary>Explains f(x) over the given features.</summary>
    public abstract Attribution Explain(FeatureSet features, CoalitionValue value);

    private protected CoalitionEvaluator Evaluator(FeatureSet features, CoalitionValue value) =>
        new(value, features.Count, BatchSize, Progress, CancellationValue);
}
