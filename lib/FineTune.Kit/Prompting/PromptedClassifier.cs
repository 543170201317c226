
namespace FineTune.Kit.Prompting;

/// <summary>
/// Classification by prompting: render the template with the selected shots, score each label's continuation with
/// the model, and softmax the log-likelihoods into label probabilities. Works for base models (plain-text prompt) and
/// chat models (messages rendered by the model's chat template).
/// </summary>
public sealed class PromptedClassifier : ITextClassifier
{
    private readonly PromptTemplate _template;
    private readonly LabelScorer _scorer;

    /// <summary>Creates a zero-shot classifier for a base model; add shots and a token counter with the <c>With…</c> methods.</summary>
    public PromptedClassifier(PromptTemplate template, LabelScorer scorer)
    {
        if (template.Verbalizer.Labels.Count < 2)
            throw new ArgumentException("the template needs at least two labels to classify (use WithLabels)");
        _template = template;
        _scorer = scorer;
    }

    /// <summary>Few-shot selector (default none).</summary>
    public IFewShotSelector ShotSelector { get; private init; } = FewShot.None;
    /// <summary>Number of shots per prompt.</summary>
    public int ShotCount { get; private init; }
    /// <summary>Counts prompt tokens; null reports 0 tokens.</summary>
    public TokenCounter? CountTokens { get; private init; }
    /// <summary>Chat template renderer for chat models; null means a plain-text prompt.</summary>
    public ChatTemplateRenderer? ChatTemplate { get; private init; }

    /// <summary>Uses <paramref name="k"/> shots from <paramref name="selector"/> in every prompt.</summary>
    public PromptedClassifier Shots(IFewShotSelector selector, int k) => Copy(selector, k, CountTokens, ChatTemplate);
    /// <summary>Reports prompt tokens counted with the model's tokenizer.</summary>
    public PromptedClassifier TokenCounter(TokenCounter counter) => Copy(ShotSelector, ShotCount, counter, ChatTemplate);
    /// <summary>Prompts a chat model: messages are rendered with its chat template.</summary>
    public PromptedClassifier ForChatModel(ChatTemplateRenderer chatTemplate) => Copy(ShotSelector, ShotCount, CountTokens, chatTemplate);

    /// <summary>The exact prompt text the model sees for an input.</summary>
    public string PromptFor(string input)
    {
        var shots = ShotCount > 0 ? ShotSelector.Select(input, ShotCount) : [];
        return ChatTemplate is null ? _template.Render(input, shots) : ChatTemplate(_template.RenderChat(input, shots));
    }

    /// <inheritdoc />
    public ClassifierOutput Classify(string input)
    {
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        var prompt = PromptFor(input);
        var labels = _template.Verbalizer.Labels;
        var continuations = ChatTemplate is null
            ? _template.Verbalizer.Continuations
            : _template.Verbalizer.Continuations.Select(c => c.Trim()).ToArray();
        var scores = _scorer(prompt, continuations);
        if (scores.Count != labels.Count)
            throw new ArgumentException($"the label scorer returned {scores.Count} scores for {labels.Count} labels");
        var probabilities = Softmax(scores);
        var best = 0;
        for (var i = 1; i < probabilities.Length; i++) if (probabilities[i] > probabilities[best]) best = i;
        var byLabel = labels.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => probabilities[p.i], StringComparer.Ordinal);
        return new ClassifierOutput(labels[best], byLabel, CountTokens?.Invoke(prompt) ?? 0,
            System.Diagnostics.Stopwatch.GetElapsedTime(start));
    }

    /// <summary>Numerically stable softmax of log-scores.</summary>
    public static double[] Softmax(IReadOnlyList<double> logits)
    {
        var max = logits.Max();
        var e = logits.Select(x => Math.Exp(x - max)).ToArray();
        var sum = e.Sum();
        return e.Select(x => x / sum).ToArray();
    }

    private PromptedClassifier Copy(IFewShotSelector shots, int k, TokenCounter? counter, ChatTemplateRenderer? chat)
    {
        if (k < 0) throw new ArgumentException($"shot count must be ≥ 0, got {k}");
        return new PromptedClassifier(_template, _scorer) { ShotSelector = shots, ShotCount = k, CountTokens = counter, ChatTemplate = chat };
    }
}
