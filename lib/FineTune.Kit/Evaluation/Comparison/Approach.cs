using FineTune.Kit.Prompting;
namespace FineTune.Kit.Evaluation.Comparison;

/// <summary>
/// One way of solving the task: a prompted model, a LoRA fine-tune, a full fine-tune, a baseline. Either a live
/// classifier or predictions computed earlier, plus what it cost to build.
/// </summary>
/// <example><code>
/// Approach.Named("LoRA r=8").Using(loraClassifier).WithTrainableParameters(811_008).TrainedFor(TimeSpan.FromMinutes(14))
/// </code></example>
public sealed record Approach
{
    private Approach(string name) => Name = name;

    /// <summary>Display name; unique within a comparison.</summary>
    public string Name { get; }
    /// <summary>The live classifier, when predictions are made during the comparison.</summary>
    public ITextClassifier? Classifier { get; private init; }
    /// <summary>Precomputed outputs aligned with the test set, when the classifier ran elsewhere.</summary>
    public IReadOnlyList<ClassifierOutput>? Predictions { get; private init; }
    /// <summary>Parameters updated by training (0 for prompting).</summary>
    public long TrainableParameters { get; private init; }
    /// <summary>Wall time spent training (zero for prompting).</summary>
    public TimeSpan TrainingTime { get; private init; }

    /// <summary>Starts describing an approach.</summary>
    public static Approach Named(string name) =>
        string.IsNullOrWhiteSpace(name) ? throw new ArgumentException("an approach needs a name") : new Approach(name);

    /// <summary>Classifies the test set live with this classifier.</summary>
    public Approach Using(ITextClassifier classifier) => this with { Classifier = classifier, Predictions = null };
    /// <summary>Uses outputs computed earlier, one per test example in test-set order.</summary>
    public Approach WithPredictions(IReadOnlyList<ClassifierOutput> predictions) => this with { Predictions = predictions, Classifier = null };
    /// <summary>Records the number of trainable parameters.</summary>
    public Approach WithTrainableParameters(long count) =>
        count < 0 ? throw new ArgumentException($"trainable parameters cannot be negative ({count})") : this with { TrainableParameters = count };
    /// <summary>Records the training wall time.</summary>
    public Approach TrainedFor(TimeSpan time) =>
        time < TimeSpan.Zero ? throw new ArgumentException($"training time cannot be negative ({time})") : this with { TrainingTime = time };
}
