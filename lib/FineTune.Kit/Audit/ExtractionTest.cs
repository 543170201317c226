using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Data.Curation;
using FineTune.Kit.Evaluation;
using FineTune.Kit.Models;
using FineTune.Kit.Plots;
using Plotly.NET;
using static FineTune.Kit.Plots.PlotlyTraces;

namespace FineTune.Kit.Audit;

/// <summary>
/// Training-data extraction test: feed the first <see cref="PrefixTokens"/> tokens of an example, let the model
/// continue greedily, and check whether it writes the rest of the example (up to <see cref="SuffixTokens"/> tokens).
/// Training examples measure what the model reproduces; held-out examples of the same kind are the control, since
/// part of any text can be guessed from its beginning without having been memorised.
/// <list type="bullet">
/// <item><b>exact</b>: the generated text starts with the true rest, character for character;</item>
/// <item><b>near-exact</b>: the normalised edit similarity 1 − Levenshtein(g, r) / max(|g|, |r|) is at least
/// <see cref="NearThreshold"/> (0.9 by default), where r is the true rest and g the generated text cut to |r| characters.
/// Every exact reproduction is also near-exact.</item>
/// </list>
/// </summary>
public sealed class ExtractionTest
{
    private readonly CausalLM _model;
    private int _prefix = 10, _suffix = 32, _batch = 16, _worst = 10;
    private double _near = 0.9;
    private Bootstrap _bootstrap = new(1000, 0.95, Seeds.Default);

    private ExtractionTest(CausalLM model) => _model = model;

    /// <summary>A test of <paramref name="model"/> (with whatever adapters it carries); it needs a tokenizer.</summary>
    public static ExtractionTest For(CausalLM model)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.RequireTokenizer();
        return new ExtractionTest(model);
    }

    /// <summary>Tokens of each example given to the model (default 10).</summary>
    public int PrefixTokens => _prefix;
    /// <summary>Most tokens of the rest that are compared (default 32).</summary>
    public int SuffixTokens => _suffix;
    /// <summary>Edit similarity from which a continuation counts as near-exact (default 0.9).</summary>
    public double NearThreshold => _near;

    /// <summary>Tokens of each example the model is given (at least 1).</summary>
    public ExtractionTest Prefix(int tokens)
    {
        if (tokens < 1) throw new ArgumentOutOfRangeException(nameof(tokens), tokens, "Prefix must be at least 1 token.");
        _prefix = tokens;
        return this;
    }

    /// <summary>Most tokens of the rest to generate and compare (at least 1).</summary>
    public ExtractionTest Suffix(int tokens)
    {
        if (tokens < 1) throw new ArgumentOutOfRangeException(nameof(tokens), tokens, "Suffix must be at least 1 token.");
        _suffix = tokens;
        return this;
    }

    /// <summary>Edit similarity in (0, 1] from which a continuation counts as near-exact.</summary>
    public ExtractionTest NearExact(double threshold)
    {
        if (!(threshold > 0 && threshold <= 1)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "NearExact threshold must be in (0, 1].");
        _near = threshold;
        return this;
    }

    /// <summary>Prompts generated together (at least 1).</summary>
    public ExtractionTest BatchSize(int prompts)
    {
        if (prompts < 1) throw new ArgumentOutOfRangeException(nameof(prompts), prompts, "BatchSize must be at least 1.");
        _batch = prompts;
        return this;
    }

    /// <summary>How many of the closest reproductions the report lists (at least 0).</summary>
    public ExtractionTest WorstCases(int count)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "WorstCases must be 0 or more.");
        _worst = count;
        return this;
    }

    /// <summary>The bootstrap of the confidence intervals (default 1,000 resamples, 95%, seed <see cref="Seeds.Default"/>).</summary>
    public ExtractionTest Bootstrap(Bootstrap bootstrap)
    {
        ArgumentNullException.ThrowIfNull(bootstrap);
        bootstrap.Validate(); // refuses a bad level or resample count now, not after generation
        _bootstrap = bootstrap;
        return this;
    }

    /// <summary>
    /// Runs the test on training examples and held-out examples. Examples too short to have a rest after the prefix
    /// are counted in the report (<see cref="ExtractionReport.SkippedTrain"/>), not tested; a group left empty is an error.
    /// </summary>
    public ExtractionReport Run(IReadOnlyList<string> training, IReadOnlyList<string> heldOut)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(heldOut);
        var (train, skippedTrain) = Test("train", training);
        var (held, skippedHeld) = Test("heldout", heldOut);
        if (train.Count == 0)
            throw new ArgumentException($"none of the {training.Count} training examples is longer than the {_prefix}-token prefix; use shorter Prefix or longer examples");
        if (held.Count == 0)
            throw new ArgumentException($"none of the {heldOut.Count} held-out examples is longer than the {_prefix}-token prefix; use shorter Prefix or longer examples");
        return new ExtractionReport(train, held, skippedTrain, skippedHeld, _prefix, _suffix, _near, _bootstrap, _worst);
    }

    private (List<ExtractionCase> Cases, int Skipped) Test(string split, IReadOnlyList<string> texts)
    {
        var tok = _model.RequireTokenizer();
        var items = new List<(int Index, long[] Prompt, long[] Tail)>();
        int skipped = 0;
        for (var i = 0; i < texts.Count; i++)
        {
            var ids = tok.Encode(texts[i] ?? throw new ArgumentException($"{split} example {i} is null")).Select(t => (long)t).ToArray();
            // the prompt and the rest must fit the model's context together
            var room = Math.Min(_suffix, _model.Config.MaxPositions - _prefix);
            if (ids.Length <= _prefix || room < 1) { skipped++; continue; }
            items.Add((i, ids[.._prefix], ids[_prefix..Math.Min(ids.Length, _prefix + room)]));
        }
        var cases = new List<ExtractionCase>();
        foreach (var chunk in items.Chunk(_batch))
        {
            // a little slack: the model may spell the same text in more tokens than the data did
            var options = new GenerationOptions { Temperature = 0, MaxNewTokens = chunk.Max(c => c.Tail.Length) + 4 };
            var generated = _model.Generate(chunk.Select(c => (IReadOnlyList<long>)c.Prompt).ToList(), options);
            for (var k = 0; k < chunk.Length; k++)
            {
                var (index, prompt, rest) = chunk[k];
                var expected = tok.Decode(rest.Select(t => (int)t));
                var text = tok.Decode(generated[k].Select(t => (int)t), skipSpecialTokens: true);
                var similarity = Similarity(text, expected);
                var exact = expected.Length > 0 && text.StartsWith(expected, StringComparison.Ordinal);
                cases.Add(new ExtractionCase(split, index, tok.Decode(prompt.Select(t => (int)t)), expected, text, similarity, exact,
                    exact || similarity >= _near));
            }
        }
        return (cases, skipped);
    }

    /// <summary>
    /// The near-exact measure: 1 − Levenshtein(g, r) / max(|g|, |r|) with g = <paramref name="generated"/> cut to the
    /// length of <paramref name="expected"/> (r); 1 for two empty strings.
    /// </summary>
    public static double Similarity(string generated, string expected)
    {
        var g = generated.Length > expected.Length ? generated[..expected.Length] : generated;
        var longest = Math.Max(g.Length, expected.Length);
        return longest == 0 ? 1 : 1 - (double)NormalizeLabelsRule.EditDistance(g, expected) / longest;
    }
}

/// <summary>One tested example: the prefix given, the true rest, what the model wrote, and how close it came.</summary>
/// <param name="Split">"train" or "heldout".</param>
/// <param name="Index">Position of the example in the list it came from.</param>
/// <param name="Prefix">The prefix given to the model, as text.</param>
/// <param name="Expected">The true rest (up to the suffix length).</param>
/// <param name="Generated">The greedy continuation.</param>
/// <param name="Similarity">Normalised edit similarity (see <see cref="ExtractionTest.Similarity"/>).</param>
/// <param name="Exact">The continuation starts with the true rest.</param>
/// <param name="NearExact">Exact, or similarity at least the threshold.</param>
public sealed record ExtractionCase(string Split, int Index, string Prefix, string Expected, string Generated, double Similarity,
    bool Exact, bool NearExact);

/// <summary>
/// What the extraction test found: exact and near-exact reproduction rates of training and held-out examples with
/// bootstrap intervals, the gap between them (the part owed to memorisation), the closest reproductions and a curve
/// of the share of examples reproduced at each similarity.
/// </summary>
public sealed class ExtractionReport : IReport
{
    private readonly int _worst;

    internal ExtractionReport(IReadOnlyList<ExtractionCase> train, IReadOnlyList<ExtractionCase> heldOut, int skippedTrain, int skippedHeldOut,
        int prefix, int suffix, double near, Bootstrap bootstrap, int worst)
    {
        Train = train;
        HeldOut = heldOut;
        SkippedTrain = skippedTrain;
        SkippedHeldOut = skippedHeldOut;
        PrefixTokens = prefix;
        SuffixTokens = suffix;
        NearThreshold = near;
        _worst = worst;
        double[] Of(IEnumerable<ExtractionCase> cases, Func<ExtractionCase, bool> hit) => cases.Select(c => hit(c) ? 1.0 : 0.0).ToArray();
        double[] trainExact = Of(train, c => c.Exact), heldExact = Of(heldOut, c => c.Exact);
        double[] trainNear = Of(train, c => c.NearExact), heldNear = Of(heldOut, c => c.NearExact);
        TrainExact = bootstrap.Mean(trainExact);
        HeldOutExact = bootstrap.Mean(heldExact);
        TrainNearExact = bootstrap.Mean(trainNear);
        HeldOutNearExact = bootstrap.Mean(heldNear);
        ExactGap = PrivacyStatistics.MeanDifference(trainExact, heldExact, bootstrap);
        NearExactGap = PrivacyStatistics.MeanDifference(trainNear, heldNear, bootstrap);
    }

    /// <summary>Every tested training example.</summary>
    public IReadOnlyList<ExtractionCase> Train { get; }
    /// <summary>Every tested held-out example.</summary>
    public IReadOnlyList<ExtractionCase> HeldOut { get; }
    /// <summary>Training examples too short to test.</summary>
    public int SkippedTrain { get; }
    /// <summary>Held-out examples too short to test.</summary>
    public int SkippedHeldOut { get; }
    /// <summary>Tokens given to the model.</summary>
    public int PrefixTokens { get; }
    /// <summary>Most tokens of the rest compared.</summary>
    public int SuffixTokens { get; }
    /// <summary>Similarity from which a continuation counts as near-exact.</summary>
    public double NearThreshold { get; }
    /// <summary>Share of training examples reproduced exactly, with its interval.</summary>
    public ConfidenceInterval TrainExact { get; }
    /// <summary>Share of held-out examples reproduced exactly, with its interval.</summary>
    public ConfidenceInterval HeldOutExact { get; }
    /// <summary>Share of training examples reproduced near-exactly.</summary>
    public ConfidenceInterval TrainNearExact { get; }
    /// <summary>Share of held-out examples reproduced near-exactly.</summary>
    public ConfidenceInterval HeldOutNearExact { get; }
    /// <summary>Train − held-out exact rate (unpaired bootstrap): what memorisation adds.</summary>
    public ConfidenceInterval ExactGap { get; }
    /// <summary>Train − held-out near-exact rate.</summary>
    public ConfidenceInterval NearExactGap { get; }

    /// <summary>The closest reproductions, training examples first considered, most similar first.</summary>
    public IReadOnlyList<ExtractionCase> WorstCases =>
        Train.Concat(HeldOut).OrderByDescending(c => c.Exact).ThenByDescending(c => c.Similarity).ThenBy(c => c.Split == "train" ? 0 : 1)
            .Take(_worst).ToList();

    /// <summary>Similarity thresholds of the curve (0, 0.05, …, 1).</summary>
    public static IReadOnlyList<double> CurveThresholds { get; } = Enumerable.Range(0, 21).Select(i => i / 20.0).ToArray();

    /// <summary>Share of the examples whose similarity is at least each of <see cref="CurveThresholds"/>.</summary>
    public static double[] Curve(IReadOnlyList<ExtractionCase> cases) =>
        CurveThresholds.Select(t => cases.Count == 0 ? 0 : (double)cases.Count(c => c.Similarity >= t - 1e-12) / cases.Count).ToArray();

    /// <summary>
    /// The numbers as a JSON object, the "extraction" part of an audit report:
    /// <c>{"train_exact": x, "heldout_exact": y, "train_exact_ci": [lo, hi], …, "exact_gap", "near_exact_threshold",
    /// "worst_cases": [...], "curve": {...}}</c>.
    /// </summary>
    public JsonObject ToJsonObject()
    {
        static JsonNode? F(double v) => PrivacyStatistics.Finite(v);
        return new JsonObject
        {
            ["train_exact"] = F(TrainExact.Estimate),
            ["heldout_exact"] = F(HeldOutExact.Estimate),
            ["train_exact_ci"] = PrivacyStatistics.Interval(TrainExact),
            ["heldout_exact_ci"] = PrivacyStatistics.Interval(HeldOutExact),
            ["train_near_exact"] = F(TrainNearExact.Estimate),
            ["heldout_near_exact"] = F(HeldOutNearExact.Estimate),
            ["train_near_exact_ci"] = PrivacyStatistics.Interval(TrainNearExact),
            ["heldout_near_exact_ci"] = PrivacyStatistics.Interval(HeldOutNearExact),
            ["exact_gap"] = F(ExactGap.Estimate),
            ["exact_gap_ci"] = PrivacyStatistics.Interval(ExactGap),
            ["near_exact_gap"] = F(NearExactGap.Estimate),
            ["near_exact_gap_ci"] = PrivacyStatistics.Interval(NearExactGap),
            ["level"] = TrainExact.Level,
            ["near_exact_threshold"] = NearThreshold,
            ["near_exact_definition"] = "1 - Levenshtein(g, r) / max(|g|, |r|) >= threshold, r the true rest, g the generated text cut to |r| characters",
            ["prefix_tokens"] = PrefixTokens,
            ["suffix_tokens"] = SuffixTokens,
            ["train_examples"] = Train.Count,
            ["heldout_examples"] = HeldOut.Count,
            ["skipped_train"] = SkippedTrain,
            ["skipped_heldout"] = SkippedHeldOut,
            ["worst_cases"] = new JsonArray(WorstCases.Select(c => (JsonNode)new JsonObject
            {
                ["split"] = c.Split, ["index"] = c.Index, ["prefix"] = c.Prefix, ["expected"] = c.Expected, ["generated"] = c.Generated,
                ["similarity"] = F(c.Similarity), ["exact"] = c.Exact, ["near_exact"] = c.NearExact,
            }).ToArray()),
            ["curve"] = new JsonObject
            {
                ["similarity_at_least"] = new JsonArray(CurveThresholds.Select(t => (JsonNode)t).ToArray()),
                ["train"] = new JsonArray(Curve(Train).Select(v => (JsonNode)v).ToArray()),
                ["heldout"] = new JsonArray(Curve(HeldOut).Select(v => (JsonNode)v).ToArray()),
            },
        };
    }

    /// <inheritdoc/>
    public string ToJson() => ToJsonObject().ToJsonString(PrivacyStatistics.Indented);

    /// <summary>Rates with intervals (train versus held-out), and the extraction curve.</summary>
    public IReadOnlyList<GenericChart> Charts()
    {
        Trace Bars(string name, ConfidenceInterval exact, ConfidenceInterval near) => Trace("bar",
            ("x", new[] { "exact", "near-exact" }), ("y", new[] { exact.Estimate, near.Estimate }), ("name", name),
            ("error_y", Obj(("type", "data"), ("symmetric", false), ("array", new[] { exact.Upper - exact.Estimate, near.Upper - near.Estimate }),
                ("arrayminus", new[] { exact.Estimate - exact.Lower, near.Estimate - near.Lower }))));
        var rates = Chart([Bars("training examples", TrainExact, TrainNearExact), Bars("held-out examples", HeldOutExact, HeldOutNearExact)],
            $"Reproduced rest after a {PrefixTokens}-token prefix ({TrainExact.Level:P0} intervals)", null, "share of examples", ("barmode", "group"));
        var curve = Chart([
            Trace("scatter", ("x", CurveThresholds.ToArray()), ("y", Curve(Train)), ("mode", "lines+markers"), ("name", "training examples")),
            Trace("scatter", ("x", CurveThresholds.ToArray()), ("y", Curve(HeldOut)), ("mode", "lines+markers"), ("name", "held-out examples")),
        ], "Extraction curve: share of examples reproduced at least this closely", "edit similarity of the continuation", "share of examples");
        return [rates, curve];
    }

    /// <inheritdoc/>
    public string ToHtml()
    {
        var page = new HtmlPage("Training-data extraction");
        page.Paragraph($"The model was given the first {PrefixTokens} tokens of each example and continued greedily; the next " +
                       $"{SuffixTokens} tokens at most were compared. Exact: the continuation starts with the true rest. Near-exact: " +
                       $"edit similarity at least {PrivacyStatistics.Format(NearThreshold)} (1 − Levenshtein / longer length, the continuation cut to the rest's length).");
        page.Table(["", "training", "held-out", "gap (train − held-out)"],
        [
            ["examples tested", Train.Count.ToString(), HeldOut.Count.ToString(), ""],
            ["too short, not tested", SkippedTrain.ToString(), SkippedHeldOut.ToString(), ""],
            ["exact", TrainExact.ToString(), HeldOutExact.ToString(), ExactGap.ToString()],
            ["near-exact", TrainNearExact.ToString(), HeldOutNearExact.ToString(), NearExactGap.ToString()],
        ]);
        foreach (var chart in Charts()) page.Chart(chart);
        page.Heading("Closest reproductions");
        page.Table(["split", "#", "prefix", "true rest", "generated", "similarity", "exact"],
            WorstCases.Select(c => (IReadOnlyList<string>)[c.Split, c.Index.ToString(), c.Prefix, c.Expected, c.Generated,
                PrivacyStatistics.Format(c.Similarity), c.Exact ? "yes" : "no"]));
        return page.ToHtml();
    }

    /// <inheritdoc/>
    public void Save(string directory) => ReportFolder.Write(this, directory);
}
