namespace FineTune.Kit.Prompting;

/// <summary>
/// Anything that puts a label on a text: a prompted base or chat model, a fine-tuned model with a classification head,
/// a LoRA adapter, a keyword baseline. The comparison stage only sees this seam, so approaches are interchangeable.
/// </summary>
public interface ITextClassifier
{
    /// <summary>Classifies one input text.</summary>
    ClassifierOutput Classify(string input);
}

/// <summary>What a classifier says about one input.</summary>
/// <param name="Label">The predicted label.</param>
/// <param name="Probabilities">Probability per candidate label (should sum to 1); empty when the classifier has none.</param>
/// <param name="PromptTokens">Tokens sent to the model for this request (0 when unknown or not applicable).</param>
/// <param name="Latency">Wall time of the request when the classifier measured it; null lets the caller time the call.</param>
public sealed record ClassifierOutput(
    string Label,
    IReadOnlyDictionary<string, double> Probabilities,
    int PromptTokens = 0,
    TimeSpan? Latency = null)
{
    /// <summary>A prediction with no probabilities (e.g. a parsed generation).</summary>
    public static ClassifierOutput LabelOnly(string label, int promptTokens = 0, TimeSpan? latency = null) =>
        new(label, new Dictionary<string, double>(), promptTokens, latency);

    /// <summary>Probability of the predicted label, or NaN when the classifier gave no probabilities.</summary>
    public double Confidence => Probabilities.TryGetValue(Label, out var p) ? p : double.NaN;
}
