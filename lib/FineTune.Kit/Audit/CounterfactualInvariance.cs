using FineTune.Kit.Evaluation;
using FineTune.Kit.Prompting;

namespace FineTune.Kit.Audit;

/// <summary>What a classifier said about one counterfactual pair.</summary>
/// <param name="Pair">The two texts.</param>
/// <param name="Label">The label predicted for the original.</param>
/// <param name="CounterfactualLabel">The label predicted for the counterfactual.</param>
/// <param name="Probability">Probability of <paramref name="Label"/> on the original (NaN when the classifier gives none).</param>
/// <param name="CounterfactualProbability">Probability of the same <paramref name="Label"/> on the counterfactual (NaN when none).</param>
public sealed record PairOutcome(CounterfactualPair Pair, string Label, string CounterfactualLabel, double Probability, double CounterfactualProbability)
{
    /// <summary>True when the prediction changed with the attribute.</summary>
    public bool Flipped => !string.Equals(Label, CounterfactualLabel, StringComparison.Ordinal);

    /// <summary>|p(label | original) − p(label | counterfactual)| of the original's predicted label; NaN without probabilities.</summary>
    public double AbsoluteChange => Math.Abs(Probability - CounterfactualProbability);
}

/// <summary>Flip rate and probability change over a set of pairs, with intervals that resample the source texts.</summary>
/// <param name="Name">What the pairs share: "all", an attribute, or "attribute: from → to".</param>
/// <param name="Pairs">Number of pairs.</param>
/// <param name="Sources">Number of distinct source texts the pairs came from.</param>
/// <param name="FlipRate">Share of pairs whose label changed.</param>
/// <param name="MeanAbsoluteChange">Mean |Δp| of the original's predicted label; null when the classifier gives no probabilities.</param>
public sealed record InvarianceSummary(string Name, int Pairs, int Sources, ConfidenceInterval FlipRate, ConfidenceInterval? MeanAbsoluteChange);

/// <summary>What <see cref="CounterfactualInvariance"/> measured.</summary>
/// <param name="Overall">Over every pair.</param>
/// <param name="ByAttribute">Per attribute of the lexicon that produced pairs.</param>
/// <param name="ByGroupPair">Per attribute and direction (female → male, Westerlyn → Northmere).</param>
/// <param name="WorstPairs">Flipped pairs first, then by |Δp|, largest first.</param>
/// <param name="Outcomes">Every pair with both predictions.</param>
public sealed record InvarianceResult(InvarianceSummary Overall, IReadOnlyList<InvarianceSummary> ByAttribute,
    IReadOnlyList<InvarianceSummary> ByGroupPair, IReadOnlyList<PairOutcome> WorstPairs, IReadOnlyList<PairOutcome> Outcomes);

/// <summary>
/// Counterfactual invariance of a classifier: change only a protected attribute of each input (a name, gendered words,
/// a place, dialect or politeness markers, from a <see cref="CounterfactualLexicon"/>) and measure how often the
/// predicted label flips and how much the predicted label's probability moves. A classifier that does not read the
/// attribute flips on no pair.
/// </summary>
/// <remarks>
/// Pairs made from one text are not independent (a model that reads the region flips on all three region swaps of a
/// ticket), so the intervals resample source texts, each with all its pairs (a cluster bootstrap through
/// <see cref="Bootstrap.Of"/>). Each distinct text is classified once.
/// </remarks>
/// <example>
/// <code>
/// var result = CounterfactualInvariance.Of(classifier).Lexicon(CounterfactualLexicon.Default).Measure(texts);
/// Console.WriteLine(result.Overall.FlipRate);                 // 0.031 [0.019, 0.045]
/// foreach (var a in result.ByAttribute) Console.WriteLine($"{a.Name}: {a.FlipRate}");
/// </code>
/// </example>
public sealed class CounterfactualInvariance
{
    private readonly ITextClassifier _classifier;

    private CounterfactualInvariance(ITextClassifier classifier) => _classifier = classifier;

    /// <summary>Starts a measurement of <paramref name="classifier"/>.</summary>
    public static CounterfactualInvariance Of(ITextClassifier classifier)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        return new CounterfactualInvariance(classifier);
    }

    /// <summary>The lexicon pairs are made with (default <see cref="CounterfactualLexicon.Default"/>).</summary>
    public CounterfactualLexicon LexiconValue { get; private set; } = CounterfactualLexicon.Default;
    /// <summary>Bootstrap resamples (default 1,000).</summary>
    public int ResamplesValue { get; private set; } = 1000;
    /// <summary>Confidence level (default 0.95).</summary>
    public double LevelValue { get; private set; } = 0.95;
    /// <summary>Seed of the resampling.</summary>
    public int SeedValue { get; private set; } = Seeds.Default;
    /// <summary>How many worst pairs to keep (default 10).</summary>
    public int WorstValue { get; private set; } = 10;

    /// <summary>The lexicon to perturb inputs with.</summary>
    public CounterfactualInvariance Lexicon(CounterfactualLexicon lexicon)
    {
        LexiconValue = lexicon ?? throw new ArgumentNullException(nameof(lexicon), "Lexicon must not be null");
        return this;
    }

    /// <summary>Bootstrap resamples per interval (at least 1).</summary>
    public CounterfactualInvariance Resamples(int count)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "Resamples must be at least 1");
        ResamplesValue = count;
        return this;
    }

    /// <summary>Confidence level in (0, 1).</summary>
    public CounterfactualInvariance Level(double level)
    {
        if (!(level > 0 && level < 1)) throw new ArgumentOutOfRangeException(nameof(level), level, "Level must be in (0, 1)");
        LevelValue = level;
        return this;
    }

    /// <summary>Seed of the resampling.</summary>
    public CounterfactualInvariance Seed(int seed)
    {
        SeedValue = seed;
        return this;
    }

    /// <summary>How many worst pairs the result lists (at least 0).</summary>
    public CounterfactualInvariance Worst(int count)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "Worst must be at least 0");
        WorstValue = count;
        return this;
    }

    /// <summary>Makes the pairs of <paramref name="texts"/>, classifies both sides, and summarises; null when no text yields a pair.</summary>
    public InvarianceResult? Measure(IReadOnlyList<string> texts) => Measure(LexiconValue.Pairs(texts));

    /// <summary>Classifies both sides of ready-made pairs and summarises; null when there are none.</summary>
    public InvarianceResult? Measure(IReadOnlyList<CounterfactualPair> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.Count == 0) return null;
        var cache = new Dictionary<string, ClassifierOutput>(StringComparer.Ordinal);
        ClassifierOutput Classify(string text)
        {
            if (!cache.TryGetValue(text, out var output)) cache[text] = output = _classifier.Classify(text);
            return output;
        }
        var outcomes = pairs.Select(p =>
        {
            var original = Classify(p.Original);
            var counterfactual = Classify(p.Counterfactual);
            return new PairOutcome(p, original.Label, counterfactual.Label, ProbabilityOf(original, original.Label),
                ProbabilityOf(counterfactual, original.Label));
        }).ToList();
        var bootstrap = new Bootstrap(ResamplesValue, LevelValue, SeedValue);
        var worst = outcomes.OrderByDescending(o => o.Flipped).ThenByDescending(o => double.IsNaN(o.AbsoluteChange) ? -1 : o.AbsoluteChange)
            .ThenBy(o => o.Pair.Source).Take(WorstValue).ToList();
        return new InvarianceResult(
            Summarise("all", outcomes, bootstrap),
            outcomes.GroupBy(o => o.Pair.Attribute).Select(g => Summarise(g.Key, g.ToList(), bootstrap)).ToList(),
            outcomes.GroupBy(o => $"{o.Pair.Attribute}: {o.Pair.FromGroup} → {o.Pair.ToGroup}")
                .Select(g => Summarise(g.Key, g.ToList(), bootstrap)).ToList(),
            worst, outcomes);
    }

    // a classifier without probabilities gives NaN; one that leaves a label out of its table gives it probability 0
    private static double ProbabilityOf(ClassifierOutput output, string label) =>
        output.Probabilities.Count == 0 ? double.NaN : output.Probabilities.TryGetValue(label, out var p) ? p : 0;

    internal static InvarianceSummary Summarise(string name, IReadOnlyList<PairOutcome> outcomes, Bootstrap bootstrap)
    {
        var flips = ClusterMean(outcomes.Select(o => (o.Pair.Source, o.Flipped ? 1.0 : 0.0)).ToList(), bootstrap);
        var withProbabilities = outcomes.Where(o => !double.IsNaN(o.AbsoluteChange)).Select(o => (o.Pair.Source, o.AbsoluteChange)).ToList();
        var change = withProbabilities.Count == 0 ? (ConfidenceInterval?)null : ClusterMean(withProbabilities, bootstrap);
        return new InvarianceSummary(name, outcomes.Count, outcomes.Select(o => o.Pair.Source).Distinct().Count(), flips, change);
    }

    /// <summary>
    /// Mean of per-pair values with an interval that resamples the sources (clusters) with all their pairs: the
    /// statistic of a resample is the sum of its sources' values over the number of their pairs.
    /// </summary>
    internal static ConfidenceInterval ClusterMean(IReadOnlyList<(int Source, double Value)> values, Bootstrap bootstrap)
    {
        var clusters = values.GroupBy(v => v.Source).Select(g => (Sum: g.Sum(v => v.Value), Count: g.Count())).ToArray();
        return bootstrap.Of(clusters.Length, sample =>
        {
            double sum = 0;
            long count = 0;
            foreach (var i in sample) { sum += clusters[i].Sum; count += clusters[i].Count; }
            return sum / count;
        });
    }
}
