using System.Globalization;
using FineTune.Kit.Evaluation;
using FineTune.Kit.Data;
using FineTune.Kit.Prompting;

namespace FineTune.Kit.Evaluation.Comparison;

/// <summary>One prompt design: a template, a shot selector and a shot count, under a name.</summary>
public sealed record PromptVariant(string Name, PromptTemplate Template, IFewShotSelector Shots, int ShotCount);

/// <summary>
/// Several prompt designs evaluated side by side on the same test set with the same model, so that "5 similar shots"
/// versus "zero-shot with a better instruction" is a measured question.
/// </summary>
/// <example>
/// <code>
/// var results = new PromptVariants()
///     .Add("zero-shot", template)
///     .Add("4 random shots", template, FewShot.Random(train, seed: 1), 4)
///     .Add("4 similar shots", template, FewShot.ByTfIdf(train), 4)
///     .Evaluate(test, model.ScoreLabels, model.CountTokens);
/// </code>
/// </example>
public sealed class PromptVariants
{
    private readonly List<PromptVariant> _variants = [];

    /// <summary>The declared variants.</summary>
    public IReadOnlyList<PromptVariant> Variants => _variants;

    /// <summary>Declares a variant; names must be unique.</summary>
    public PromptVariants Add(string name, PromptTemplate template, IFewShotSelector? shots = null, int shotCount = 0)
    {
        if (_variants.Any(v => v.Name == name)) throw new ArgumentException($"a prompt variant named '{name}' already exists");
        _variants.Add(new PromptVariant(name, template, shots ?? FewShot.None, shotCount));
        return this;
    }

    /// <summary>Evaluates every variant with the same scorer on the same examples.</summary>
    public PromptVariantsResult Evaluate(IReadOnlyList<LabeledExample> test, LabelScorer scorer, TokenCounter? countTokens = null,
        ChatTemplateRenderer? chatTemplate = null, Bootstrap? bootstrap = null) =>
        Evaluate(test, v =>
        {
            var c = new PromptedClassifier(v.Template, scorer).Shots(v.Shots, v.ShotCount);
            if (countTokens is not null) c = c.TokenCounter(countTokens);
            return chatTemplate is null ? c : c.ForChatModel(chatTemplate);
        }, bootstrap);

    /// <summary>Evaluates every variant with a classifier built for it (for custom prompting back ends).</summary>
    public PromptVariantsResult Evaluate(IReadOnlyList<LabeledExample> test, Func<PromptVariant, ITextClassifier> build, Bootstrap? bootstrap = null)
    {
        if (_variants.Count == 0) throw new ArgumentException("no prompt variants declared");
        var results = _variants.Select(v =>
        {
            var labels = v.Template.Verbalizer.Labels;
            var unknown = test.Select(e => e.Label).FirstOrDefault(l => !labels.Contains(l));
            if (unknown is not null)
                throw new DataFormatException($"test label '{unknown}' is not among the labels of prompt variant '{v.Name}' [{string.Join(", ", labels)}]");
            return new PromptVariantResult(v, ClassificationReport.Evaluate(build(v), test, labels, bootstrap));
        }).ToArray();
        return new PromptVariantsResult(results);
    }
}

/// <summary>The metrics of one prompt variant.</summary>
public sealed record PromptVariantResult(PromptVariant Variant, ClassificationReport Report);

/// <summary>Per-variant metrics, best accuracy first, and a bridge into the prompting-versus-fine-tuning comparison.</summary>
public sealed class PromptVariantsResult(IReadOnlyList<PromptVariantResult> results)
{
    /// <summary>Results in declaration order.</summary>
    public IReadOnlyList<PromptVariantResult> Results => results;

    /// <summary>The variant with the highest accuracy (ties: higher macro-F1, then fewer prompt tokens).</summary>
    public PromptVariantResult Best => results
        .OrderByDescending(r => r.Report.Accuracy.Estimate)
        .ThenByDescending(r => r.Report.MacroF1.Estimate)
        .ThenBy(r => r.Report.PromptTokens.Mean)
        .First();

    /// <summary>Table rows: variant, shots, accuracy [CI], macro-F1, ECE, mean prompt tokens.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Rows() => results.Select(r => (IReadOnlyList<string>)
    [
        r.Variant.Name,
        r.Variant.ShotCount.ToString(CultureInfo.InvariantCulture),
        r.Report.Accuracy.ToString(),
        r.Report.MacroF1.Estimate.ToString("0.000", CultureInfo.InvariantCulture),
        r.Report.Calibration?.ExpectedCalibrationError.ToString("0.000", CultureInfo.InvariantCulture) ?? "n/a",
        r.Report.PromptTokens.Mean.ToString("0.#", CultureInfo.InvariantCulture),
    ]).ToArray();

    /// <summary>Header of <see cref="Rows"/>.</summary>
    public static IReadOnlyList<string> Header { get; } = ["variant", "shots", "accuracy [95% CI]", "macro-F1", "ECE", "prompt tokens"];

    /// <summary>Every variant as an approach with precomputed predictions (no training), ready for <see cref="PromptVsFineTune"/>.</summary>
    public IEnumerable<Approach> ToApproaches() =>
        results.Select(r => Approach.Named(r.Variant.Name).WithPredictions(r.Report.Outputs));
}
