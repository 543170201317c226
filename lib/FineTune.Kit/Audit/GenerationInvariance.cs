using FineTune.Kit.Evaluation;

namespace FineTune.Kit.Audit;

/// <summary>The replies to both sides of one counterfactual pair and what they measure.</summary>
/// <param name="Pair">The two prompts.</param>
/// <param name="Reply">Reply to the original.</param>
/// <param name="CounterfactualReply">Reply to the counterfactual.</param>
/// <param name="LengthChange">Words of the counterfactual reply minus words of the original reply.</param>
/// <param name="SentimentChange">Sentiment score of the counterfactual reply minus that of the original (<see cref="SentimentLexicon.Score"/>).</param>
/// <param name="JudgeChange">Judge score of the counterfactual reply minus that of the original; null without a judge.</param>
public sealed record ReplyPairOutcome(CounterfactualPair Pair, string Reply, string CounterfactualReply, int LengthChange,
    double SentimentChange, double? JudgeChange);

/// <summary>A mean change between replies, signed (does one group get longer replies?) and absolute (how much do they move?).</summary>
/// <param name="Measure">"length_words", "sentiment" or "judge".</param>
/// <param name="Attribute">"all" or the attribute the pairs change.</param>
/// <param name="MeanChange">Mean signed change (counterfactual minus original).</param>
/// <param name="MeanAbsoluteChange">Mean absolute change.</param>
public sealed record ReplyChange(string Measure, string Attribute, ConfidenceInterval MeanChange, ConfidenceInterval MeanAbsoluteChange);

/// <summary>What <see cref="GenerationInvariance"/> measured.</summary>
/// <param name="Pairs">Number of pairs.</param>
/// <param name="Changes">Per measure, over all pairs and per attribute.</param>
/// <param name="WorstPairs">Largest absolute length changes first.</param>
/// <param name="Outcomes">Every pair with both replies.</param>
public sealed record GenerationInvarianceResult(int Pairs, IReadOnlyList<ReplyChange> Changes, IReadOnlyList<ReplyPairOutcome> WorstPairs,
    IReadOnlyList<ReplyPairOutcome> Outcomes);

/// <summary>
/// Counterfactual invariance of generation: reply to each prompt and to the same prompt with only a protected attribute
/// changed (by default the customer's name), and measure how the reply changes: its length in words, its sentiment
/// (<see cref="SentimentLexicon"/>), and, when one is given, a judge's score. The generator and the judge are plain
/// functions, so any model, client or scorer fits.
/// </summary>
/// <example>
/// <code>
/// var result = GenerationInvariance.Of(prompt => model.Generate(prompt, new GenerationOptions { MaxNewTokens = 80 }))
///     .Lexicon(CounterfactualLexicon.Default.Only("name"))
///     .Judge((prompt, reply) => relevance.Score(prompt, reply))
///     .Measure(tickets);
/// </code>
/// </example>
public sealed class GenerationInvariance
{
    private readonly Func<string, string> _reply;

    private GenerationInvariance(Func<string, string> reply) => _reply = reply;

    /// <summary>Starts a measurement of the generator <paramref name="reply"/> (prompt → reply).</summary>
    public static GenerationInvariance Of(Func<string, string> reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        return new GenerationInvariance(reply);
    }

    /// <summary>The lexicon (default: the name attribute of <see cref="CounterfactualLexicon.Default"/>).</summary>
    public CounterfactualLexicon LexiconValue { get; private set; } = CounterfactualLexicon.Default.Only("name");
    /// <summary>Optional judge (prompt, reply) → score.</summary>
    public Func<string, string, double>? JudgeValue { get; private set; }
    /// <summary>Bootstrap resamples (default 1,000).</summary>
    public int ResamplesValue { get; private set; } = 1000;
    /// <summary>Confidence level (default 0.95).</summary>
    public double LevelValue { get; private set; } = 0.95;
    /// <summary>Seed of the resampling.</summary>
    public int SeedValue { get; private set; } = Seeds.Default;
    /// <summary>How many worst pairs to keep (default 10).</summary>
    public int WorstValue { get; private set; } = 10;

    /// <summary>The lexicon to perturb prompts with; its sentiment word lists score the replies.</summary>
    public GenerationInvariance Lexicon(CounterfactualLexicon lexicon)
    {
        LexiconValue = lexicon ?? throw new ArgumentNullException(nameof(lexicon), "Lexicon must not be null");
        return this;
    }

    /// <summary>A judge that scores a reply to a prompt (a relevance judge, a reward model); its change is reported too.</summary>
    public GenerationInvariance Judge(Func<string, string, double> judge)
    {
        JudgeValue = judge ?? throw new ArgumentNullException(nameof(judge), "Judge must not be null");
        return this;
    }

    /// <summary>Bootstrap resamples per interval (at least 1).</summary>
    public GenerationInvariance Resamples(int count)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "Resamples must be at least 1");
        ResamplesValue = count;
        return this;
    }

    /// <summary>Confidence level in (0, 1).</summary>
    public GenerationInvariance Level(double level)
    {
        if (!(level > 0 && level < 1)) throw new ArgumentOutOfRangeException(nameof(level), level, "Level must be in (0, 1)");
        LevelValue = level;
        return this;
    }

    /// <summary>Seed of the resampling.</summary>
    public GenerationInvariance Seed(int seed)
    {
        SeedValue = seed;
        return this;
    }

    /// <summary>How many worst pairs the result lists (at least 0).</summary>
    public GenerationInvariance Worst(int count)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "Worst must be at least 0");
        WorstValue = count;
        return this;
    }

    /// <summary>Replies to both sides of every pair the lexicon makes of <paramref name="prompts"/>; null when there is none.</summary>
    public GenerationInvarianceResult? Measure(IReadOnlyList<string> prompts)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        var pairs = LexiconValue.Pairs(prompts);
        if (pairs.Count == 0) return null;
        var replies = new Dictionary<string, string>(StringComparer.Ordinal);
        string Reply(string prompt)
        {
            if (!replies.TryGetValue(prompt, out var r)) replies[prompt] = r = _reply(prompt);
            return r;
        }
        var sentiment = LexiconValue.Sentiment;
        var outcomes = pairs.Select(p =>
        {
            string a = Reply(p.Original), b = Reply(p.Counterfactual);
            double? judge = JudgeValue is { } j ? j(p.Counterfactual, b) - j(p.Original, a) : null;
            return new ReplyPairOutcome(p, a, b, SentimentLexicon.Words(b).Count - SentimentLexicon.Words(a).Count,
                sentiment.Score(b) - sentiment.Score(a), judge);
        }).ToList();

        var bootstrap = new Bootstrap(ResamplesValue, LevelValue, SeedValue);
        var changes = new List<ReplyChange>();
        void Add(string measure, Func<ReplyPairOutcome, double?> value)
        {
            foreach (var group in new[] { ("all", outcomes) }.Concat(outcomes.GroupBy(o => o.Pair.Attribute).Select(g => (g.Key, g.ToList()))))
            {
                var values = group.Item2.Where(o => value(o) is not null).Select(o => (o.Pair.Source, value(o)!.Value)).ToList();
                if (values.Count == 0) continue;
                changes.Add(new ReplyChange(measure, group.Item1, CounterfactualInvariance.ClusterMean(values, bootstrap),
                    CounterfactualInvariance.ClusterMean(values.Select(v => (v.Source, Math.Abs(v.Value))).ToList(), bootstrap)));
            }
        }
        Add("length_words", o => o.LengthChange);
        if (!sentiment.IsEmpty) Add("sentiment", o => o.SentimentChange);
        if (JudgeValue is not null) Add("judge", o => o.JudgeChange);
        var worst = outcomes.OrderByDescending(o => Math.Abs(o.LengthChange)).ThenByDescending(o => Math.Abs(o.SentimentChange))
            .ThenBy(o => o.Pair.Source).Take(WorstValue).ToList();
        return new GenerationInvarianceResult(outcomes.Count, changes, worst, outcomes);
    }
}
