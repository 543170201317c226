using FineTune.Kit.Data;
using FineTune.Kit.Prompting;

namespace FineTune.Kit.Audit;

/// <summary>
/// A bias audit of a classifier on labelled examples: slice disparity over a group column (<see cref="SliceDisparity"/>),
/// counterfactual invariance over a lexicon (<see cref="CounterfactualInvariance"/>) and, when a generator is given,
/// counterfactual invariance of its replies (<see cref="GenerationInvariance"/>). The result is an
/// <see cref="AuditReport"/> with findings: the accuracy and macro-F1 gaps and the flip rates whose whole interval lies
/// above the tolerance (parity differences are reported beside them, see <see cref="ParityDifference"/>).
/// </summary>
/// <example>
/// <code>
/// var report = BiasAudit.Of(model.Classifier(template))
///     .Data(Dataset.FromJsonl("support_tickets.fairness.test.jsonl"), groupColumn: "region")
///     .Counterfactuals(CounterfactualLexicon.Default)
///     .Run();
/// report.Save("out/audit");                    // report.html + report.json
/// foreach (var f in report.Findings) Console.WriteLine(f);
/// </code>
/// </example>
public sealed class BiasAudit
{
    private readonly ITextClassifier _classifier;
    private IReadOnlyList<string> _texts = [];
    private IReadOnlyList<string>? _labels, _groups;
    private string? _groupColumn, _dataSource;
    private CounterfactualLexicon? _lexicon = CounterfactualLexicon.Default;
    private Func<string, string>? _reply;
    private Func<string, string, double>? _judge;
    private CounterfactualLexicon? _generationLexicon;

    private BiasAudit(ITextClassifier classifier) => _classifier = classifier;

    /// <summary>Starts an audit of <paramref name="classifier"/>.</summary>
    public static BiasAudit Of(ITextClassifier classifier)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        return new BiasAudit(classifier);
    }

    /// <summary>Groups smaller than this are flagged, not ranked (default 30).</summary>
    public int MinGroupSizeValue { get; private set; } = 30;
    /// <summary>Bootstrap resamples of every interval (default 1,000).</summary>
    public int ResamplesValue { get; private set; } = 1000;
    /// <summary>Confidence level of every interval (default 0.95).</summary>
    public double LevelValue { get; private set; } = 0.95;
    /// <summary>Seed of the resampling.</summary>
    public int SeedValue { get; private set; } = Seeds.Default;
    /// <summary>Worst pairs listed (default 10).</summary>
    public int WorstValue { get; private set; } = 10;
    /// <summary>An accuracy or macro-F1 gap is a finding when its whole interval lies above this (default 0.05).</summary>
    public double GapToleranceValue { get; private set; } = 0.05;
    /// <summary>A flip rate is a finding when its whole interval lies above this (default 0.05).</summary>
    public double FlipToleranceValue { get; private set; } = 0.05;

    private ExtractionReport? _extraction;

    /// <summary>
    /// Adds a training-data extraction test (see <see cref="ExtractionTest"/>) to the report: its rates go under
    /// "extraction" in report.json and its charts onto the page. A finding when training examples are reproduced
    /// verbatim more often than held-out ones (the gap's whole interval above zero).
    /// </summary>
    public BiasAudit Extraction(ExtractionReport report)
    {
        _extraction = report ?? throw new ArgumentNullException(nameof(report));
        return this;
    }

    /// <summary>
    /// The examples: texts, their gold labels (needed for disparity) and group values (one per text; null skips the
    /// disparity part), with the group column's name for the report.
    /// </summary>
    public BiasAudit Examples(IReadOnlyList<string> texts, IReadOnlyList<string>? labels = null, IReadOnlyList<string>? groups = null,
        string groupColumn = "group")
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0) throw new ArgumentException("Examples: an audit needs at least one text", nameof(texts));
        if (labels is not null && labels.Count != texts.Count) throw new ArgumentException($"Examples: {labels.Count} labels for {texts.Count} texts", nameof(labels));
        if (groups is not null && groups.Count != texts.Count) throw new ArgumentException($"Examples: {groups.Count} group values for {texts.Count} texts", nameof(groups));
        if (groups is not null && labels is null) throw new ArgumentException("Examples: group values need gold labels to measure disparity against", nameof(labels));
        (_texts, _labels, _groups, _groupColumn, _dataSource) = (texts, labels, groups, groups is null ? null : groupColumn, null);
        return this;
    }

    /// <summary>
    /// The examples from a data set: <paramref name="textColumn"/> and <paramref name="labelColumn"/> of every row, and
    /// <paramref name="groupColumn"/> when given. A row missing a value the audit needs is an error naming file and line.
    /// </summary>
    public BiasAudit Data(Dataset data, string? groupColumn = null, string textColumn = "text", string labelColumn = "label")
    {
        ArgumentNullException.ThrowIfNull(data);
        var source = data.Source ?? "data";
        if (data.Count == 0) throw new DataFormatException($"{source}: no rows to audit");
        string Need(Example row, string column, string why) => row[column] is { Length: > 0 } v ? v
            : throw new DataFormatException($"{source}:{row.Line}: the row has no \"{column}\" ({why}); columns: {string.Join(", ", row.Columns)}");
        var texts = data.Rows.Select(r => Need(r, textColumn, "the text to classify")).ToList();
        var anyLabel = data.Rows.Any(r => r.Has(labelColumn));
        var labels = groupColumn is not null || anyLabel
            ? data.Rows.Select(r => Need(r, labelColumn, groupColumn is null ? "some rows have one" : "disparity compares predictions with gold labels")).ToList()
            : null;
        var groups = groupColumn is null ? null : data.Rows.Select(r => Need(r, groupColumn, "the --group column")).ToList();
        Examples(texts, labels, groups, groupColumn ?? "group");
        _dataSource = data.Source;
        return this;
    }

    /// <summary>The counterfactual lexicon (default <see cref="CounterfactualLexicon.Default"/>); null skips counterfactuals.</summary>
    public BiasAudit Counterfactuals(CounterfactualLexicon? lexicon)
    {
        _lexicon = lexicon;
        return this;
    }

    /// <summary>
    /// Also audits generation: <paramref name="reply"/> answers each text and its name counterfactuals (or the
    /// attributes of <paramref name="lexicon"/>), scored by length, sentiment and the optional <paramref name="judge"/>.
    /// </summary>
    public BiasAudit Generation(Func<string, string> reply, Func<string, string, double>? judge = null, CounterfactualLexicon? lexicon = null)
    {
        _reply = reply ?? throw new ArgumentNullException(nameof(reply), "Generation needs a reply function");
        (_judge, _generationLexicon) = (judge, lexicon);
        return this;
    }

    /// <summary>Groups with fewer examples are flagged, not ranked (at least 1).</summary>
    public BiasAudit MinGroupSize(int examples)
    {
        if (examples < 1) throw new ArgumentOutOfRangeException(nameof(examples), examples, "MinGroupSize must be at least 1");
        MinGroupSizeValue = examples;
        return this;
    }

    /// <summary>Bootstrap resamples per interval (at least 1).</summary>
    public BiasAudit Resamples(int count)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "Resamples must be at least 1");
        ResamplesValue = count;
        return this;
    }

    /// <summary>Confidence level in (0, 1).</summary>
    public BiasAudit Level(double level)
    {
        if (!(level > 0 && level < 1)) throw new ArgumentOutOfRangeException(nameof(level), level, "Level must be in (0, 1)");
        LevelValue = level;
        return this;
    }

    /// <summary>Seed of the resampling.</summary>
    public BiasAudit Seed(int seed)
    {
        SeedValue = seed;
        return this;
    }

    /// <summary>Worst pairs listed (at least 0).</summary>
    public BiasAudit Worst(int count)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "Worst must be at least 0");
        WorstValue = count;
        return this;
    }

    /// <summary>Tolerance of accuracy and macro-F1 gaps, in [0, 1].</summary>
    public BiasAudit GapTolerance(double tolerance)
    {
        if (!(tolerance is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "GapTolerance must be in [0, 1]");
        GapToleranceValue = tolerance;
        return this;
    }

    /// <summary>Tolerance of counterfactual flip rates, in [0, 1].</summary>
    public BiasAudit FlipTolerance(double tolerance)
    {
        if (!(tolerance is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "FlipTolerance must be in [0, 1]");
        FlipToleranceValue = tolerance;
        return this;
    }

    /// <summary>Classifies the examples, measures everything asked for, and returns the report.</summary>
    public AuditReport Run()
    {
        if (_texts.Count == 0) throw new InvalidOperationException("BiasAudit: give the examples first (Examples or Data)");
        var notes = new List<string>();
        DisparityResult? disparity = null;
        if (_groups is not null && _labels is not null)
        {
            var predicted = _texts.Select(t => _classifier.Classify(t).Label).ToList();
            disparity = SliceDisparity.Of(_labels, predicted, _groups).MinGroupSize(MinGroupSizeValue).Resamples(ResamplesValue)
                .Level(LevelValue).Seed(SeedValue).Compute();
            var small = disparity.Groups.Where(g => g.TooSmall).ToList();
            if (small.Count > 0)
                notes.Add($"{small.Count} group(s) below the minimum of {MinGroupSizeValue} examples are listed but not ranked: " +
                          string.Join(", ", small.Select(g => $"{g.Group} ({g.Count})")));
            if (disparity.AccuracyGap is null)
                notes.Add($"fewer than two groups have {MinGroupSizeValue} examples or more, so no gap is ranked");
        }
        else notes.Add("no group column given: slice disparity was not measured");

        InvarianceResult? invariance = null;
        if (_lexicon is not null)
        {
            invariance = CounterfactualInvariance.Of(_classifier).Lexicon(_lexicon).Resamples(ResamplesValue).Level(LevelValue)
                .Seed(SeedValue).Worst(WorstValue).Measure(_texts);
            if (invariance is null) notes.Add($"the counterfactual lexicon ({_lexicon.Source}) matched no text and has no templates: no pairs");
        }
        else notes.Add("counterfactuals were not run");

        GenerationInvarianceResult? generation = null;
        if (_reply is not null)
        {
            // replies are audited on name swaps unless told otherwise: a name is what a reply should never depend on
            var lexicon = _generationLexicon ?? _lexicon ?? CounterfactualLexicon.Default;
            if (_generationLexicon is null && lexicon.Attributes.Any(a => a.Name == "name")) lexicon = lexicon.Only("name");
            var g = GenerationInvariance.Of(_reply).Lexicon(lexicon)
                .Resamples(ResamplesValue).Level(LevelValue).Seed(SeedValue).Worst(WorstValue);
            if (_judge is not null) g.Judge(_judge);
            generation = g.Measure(_texts);
        }

        if (_extraction is null)
            notes.Add("extraction was not run (give the audit an ExtractionReport, or --extraction with --train on the command line)");
        var settings = new AuditSettings(_dataSource, _texts.Count, _groupColumn, _lexicon?.Source, MinGroupSizeValue, ResamplesValue, LevelValue,
            SeedValue, GapToleranceValue, FlipToleranceValue);
        return new AuditReport(settings, disparity, invariance, generation, Findings(disparity, invariance), notes, _extraction);
    }

    private List<string> Findings(DisparityResult? disparity, InvarianceResult? invariance)
    {
        var findings = new List<string>();
        if (disparity?.AccuracyGap is { } gap && gap.Gap.Lower > GapToleranceValue)
            findings.Add($"accuracy gap: {gap.WorstGroup} is served worse than {gap.BestGroup} by {gap.Gap} (above {GapToleranceValue:0.###})");
        if (disparity?.MacroF1Gap is { } f1 && f1.Gap.Lower > GapToleranceValue)
            findings.Add($"macro-F1 gap: {f1.WorstGroup} trails {f1.BestGroup} by {f1.Gap} (above {GapToleranceValue:0.###})");
        // demographic-parity and equalised-odds differences are reported but not findings: as maxima over labels and
        // groups they stay well above zero on a fair model when cells are small (a clean model of the sample's 48
        // tickets per region shows an equalised-odds difference of 0.4), so a tolerance on them would cry wolf
        foreach (var a in invariance?.ByAttribute ?? [])
            if (a.FlipRate.Lower > FlipToleranceValue)
                findings.Add($"counterfactual {a.Name}: changing only the {a.Name} flips the label on {a.FlipRate} of {a.Pairs} pairs (above {FlipToleranceValue:0.###})");
        if (_extraction is { } x && x.ExactGap.Lower > 0)
            findings.Add($"extraction: training examples are reproduced verbatim more often than held-out ones by {x.ExactGap}");
        return findings;
    }
}

/// <summary>What an audit ran on and with which settings.</summary>
/// <param name="Data">The data file, when the examples came from one.</param>
/// <param name="Examples">Number of examples.</param>
/// <param name="GroupColumn">The column the disparity part sliced by; null when it did not run.</param>
/// <param name="Lexicon">The counterfactual lexicon's source ("default" or a path); null when counterfactuals did not run.</param>
/// <param name="MinGroupSize">Smallest group that is ranked.</param>
/// <param name="Resamples">Bootstrap resamples.</param>
/// <param name="Level">Confidence level.</param>
/// <param name="Seed">Resampling seed.</param>
/// <param name="GapTolerance">Tolerance of gaps and parity differences.</param>
/// <param name="FlipTolerance">Tolerance of flip rates.</param>
public sealed record AuditSettings(string? Data, int Examples, string? GroupColumn, string? Lexicon, int MinGroupSize, int Resamples,
    double Level, int Seed, double GapTolerance, double FlipTolerance);
