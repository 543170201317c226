using FineTune.Kit.Models;

namespace FineTune.Kit.Prompting;

/// <summary>Connects the prompting stage to a <see cref="CausalLM"/>: label scoring, token counting and embeddings.</summary>
public static class ModelSeams
{
    /// <summary>Scores label continuations by their log-likelihood under the model (per token with <paramref name="lengthNormalised"/>).</summary>
    public static LabelScorer AsLabelScorer(this CausalLM model, bool lengthNormalised = false) =>
        (prompt, continuations) => model.ContinuationLogProbs(prompt, continuations, lengthNormalised);

    /// <summary>Counts prompt tokens with the model's tokenizer.</summary>
    public static TokenCounter AsTokenCounter(this CausalLM model) => text => model.RequireTokenizer().Encode(text).Count;

    /// <summary>Embeds texts as the mean of the model's final hidden states.</summary>
    public static Embedder AsEmbedder(this CausalLM model) => texts => model.Embed(texts);

    /// <summary>A classifier that prompts the model with <paramref name="template"/> and picks the most likely label.</summary>
    public static PromptedClassifier Classifier(this CausalLM model, PromptTemplate template, bool lengthNormalised = false) =>
        new PromptedClassifier(template, model.AsLabelScorer(lengthNormalised)).TokenCounter(model.AsTokenCounter());
}
