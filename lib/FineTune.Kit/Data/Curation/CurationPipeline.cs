using System.Text;

namespace FineTune.Kit.Data.Curation;

/// <summary>
/// A fluent list of curation rules run in order:
/// <code>data.Curate(c =&gt; c.NormalizeUnicode().StripHtml().CollapseWhitespace().DropEmpty("text").DropDuplicates())</code>
/// Each call adds one rule (one class per rule, each usable alone); <see cref="Add"/> takes any custom rule.
/// </summary>
public sealed class CurationPipeline
{
    private readonly List<ICurationRule> _rules = [];

    /// <summary>The rules, in order.</summary>
    public IReadOnlyList<ICurationRule> Rules => _rules;

    /// <summary>The label column the report's label distribution uses.</summary>
    public string LabelColumnValue { get; private set; } = "label";

    /// <summary>Adds any rule.</summary>
    public CurationPipeline Add(ICurationRule rule)
    {
        _rules.Add(rule);
        return this;
    }

    /// <summary>Sets the label column for the report's label distribution (default <c>label</c>).</summary>
    public CurationPipeline LabelColumn(string column)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(column);
        LabelColumnValue = column;
        return this;
    }

    /// <summary>Unicode normalisation (NFKC by default), see <see cref="NormalizeUnicodeRule"/>.</summary>
    public CurationPipeline NormalizeUnicode(NormalizationForm form = NormalizationForm.FormKC, IReadOnlyList<string>? columns = null) =>
        Add(new NormalizeUnicodeRule(form, columns));

    /// <summary>HTML to plain text, see <see cref="StripHtmlRule"/>.</summary>
    public CurationPipeline StripHtml(IReadOnlyList<string>? columns = null) => Add(new StripHtmlRule(columns));

    /// <summary>White-space collapse, see <see cref="CollapseWhitespaceRule"/>.</summary>
    public CurationPipeline CollapseWhitespace(bool keepNewlines = true, IReadOnlyList<string>? columns = null) =>
        Add(new CollapseWhitespaceRule(keepNewlines, columns));

    /// <summary>Drops rows with an empty column, see <see cref="DropEmptyRule"/>.</summary>
    public CurationPipeline DropEmpty(params string[] columns) => Add(new DropEmptyRule(columns));

    /// <summary>
    /// Drops exact duplicates, then (unless <paramref name="nearThreshold"/> is null) near duplicates; both compare
    /// texts after <paramref name="normalization"/> (default <see cref="TextNormalization.Default"/>: lower case,
    /// punctuation removed, white space collapsed).
    /// </summary>
    public CurationPipeline DropDuplicates(double? nearThreshold = 0.8, int shingleSize = 5, ShingleUnit unit = ShingleUnit.Char, int permutations = 128,
        TextNormalization? normalization = null)
    {
        Add(new ExactDuplicateRule(normalization: normalization));
        return nearThreshold is { } t
            ? Add(new NearDuplicateRule(new NearDuplicateOptions(t, shingleSize, unit, permutations, Normalization: normalization)))
            : this;
    }

    /// <summary>Drops exact duplicates only, see <see cref="ExactDuplicateRule"/>.</summary>
    public CurationPipeline DropExactDuplicates(IReadOnlyList<string>? columns = null, TextNormalization? normalization = null) =>
        Add(new ExactDuplicateRule(columns, normalization));

    /// <summary>Drops near duplicates only, see <see cref="NearDuplicateRule"/>.</summary>
    public CurationPipeline DropNearDuplicates(NearDuplicateOptions? options = null, IReadOnlyList<string>? columns = null) =>
        Add(new NearDuplicateRule(options, columns));

    /// <summary>Redacts personal data with typed placeholders, see <see cref="PiiRedactionRule"/>.</summary>
    public CurationPipeline RedactPii(PiiKind kinds = PiiKind.All, IReadOnlyList<string>? columns = null) => Add(new PiiRedactionRule(kinds, columns));

    /// <summary>Drops rows outside a character range, see <see cref="FilterLengthRule"/>.</summary>
    public CurationPipeline FilterLength(int minChars = 0, int maxChars = int.MaxValue, IReadOnlyList<string>? columns = null) =>
        Add(new FilterLengthRule(minChars, maxChars, columns));

    /// <summary>Drops rows outside a token range, see <see cref="FilterTokenCountRule"/>.</summary>
    public CurationPipeline FilterTokenCount(int min, int max, Func<string, int>? countTokens = null, IReadOnlyList<string>? columns = null) =>
        Add(new FilterTokenCountRule(min, max, countTokens, columns));

    /// <summary>Normalises labels, see <see cref="NormalizeLabelsRule"/>.</summary>
    public CurationPipeline NormalizeLabels(IEnumerable<string>? canonical = null, IReadOnlyDictionary<string, string>? mapping = null,
        string column = "label", int maxEditDistance = 2, bool dropUnknown = true) =>
        Add(new NormalizeLabelsRule(canonical, mapping, column, maxEditDistance, dropUnknown));

    /// <summary>Unifies spellings of the same label without a list of labels, see <see cref="UnifyLabelSpellingsRule"/>.</summary>
    public CurationPipeline UnifyLabelSpellings(string column = "label") => Add(new UnifyLabelSpellingsRule(column));

    /// <summary>Resolves rows with the same text but different labels, see <see cref="LabelConflictRule"/>.</summary>
    public CurationPipeline ResolveLabelConflicts(ConflictResolution resolution = ConflictResolution.DropAll, string column = "label") =>
        Add(new LabelConflictRule(column, resolution));

    /// <summary>Caps rows per label, see <see cref="CapClassSizeRule"/>.</summary>
    public CurationPipeline CapClassSize(int maxPerClass, string column = "label", int seed = Seeds.Default) => Add(new CapClassSizeRule(maxPerClass, column, seed));

    /// <summary>Script / language check, see <see cref="LanguageFilterRule"/>.</summary>
    public CurationPipeline FilterLanguage(Script script = Script.Latin, double minScriptShare = 0.8, IReadOnlyList<string>? languages = null) =>
        Add(new LanguageFilterRule(script, minScriptShare, languages));

    /// <summary>Flags (or removes) label-noise candidates with the naive Bayes baseline, see <see cref="LabelNoiseRule"/>.</summary>
    public CurationPipeline FlagLabelNoise(string column = "label", bool remove = false, int folds = 5, int seed = Seeds.Default) =>
        Add(new LabelNoiseRule(column, remove, folds, seed));

    /// <summary>Drops chat rows that fail the format checks, see <see cref="ValidateChatRule"/>.</summary>
    public CurationPipeline ValidateChat() => Add(new ValidateChatRule());

    /// <summary>Runs every rule in order and builds the report.</summary>
    public CurationResult Run(Dataset data)
    {
        IReadOnlyList<Example> rows = data.Rows;
        var ruleReports = new List<RuleSummary>();
        var changes = new List<RuleChange>();
        var clusters = new List<DuplicateCluster>();
        for (int r = 0; r < _rules.Count; r++)
        {
            var rule = _rules[r];
            var outcome = rule.Apply(rows);
            int removed = outcome.Changes.Count(c => c.Kind == ChangeKind.Removed);
            int modified = outcome.Changes.Count(c => c.Kind == ChangeKind.Modified);
            // the accounting identity depends on every rule telling the truth about what it dropped
            if (rows.Count - removed != outcome.Kept.Count)
                throw new InvalidOperationException($"rule '{rule.Name}' kept {outcome.Kept.Count} of {rows.Count} rows but recorded {removed} removals");
            ruleReports.Add(new RuleSummary(rule.Name, removed, modified,
                outcome.Changes.GroupBy(c => ReasonKind(c.Reason)).ToDictionary(g => g.Key, g => g.Count()),
                outcome.Changes.Take(RuleSummary.ExampleCount).ToList(), outcome.Notes));
            changes.AddRange(outcome.Changes.Select(c => new RuleChange(rule.Name, c)));
            clusters.AddRange(outcome.Clusters);
            rows = outcome.Kept;
        }
        var curated = data.Derive(rows);
        var report = new CurationReport(data, curated, ruleReports, changes, clusters, LabelColumnValue);
        return new CurationResult(curated, report);
    }

    // "near duplicate of line 12 (Jaccard 0.91)" -> "near duplicate of line #": reasons grouped by kind
    internal static string ReasonKind(string reason)
    {
        var sb = new StringBuilder();
        bool digits = false;
        foreach (var c in reason)
        {
            if (char.IsAsciiDigit(c) || (digits && c == '.')) { if (!digits) sb.Append('#'); digits = true; continue; }
            digits = false;
            sb.Append(c);
        }
        var s = sb.ToString();
        int quote = s.IndexOf('\'');
        return quote > 0 ? s[..quote].TrimEnd() : s;
    }
}

/// <summary>The curated dataset and the report of how it came to be.</summary>
public sealed record CurationResult(Dataset Data, CurationReport Report);

/// <summary>What one rule did: counts, counts per kind of reason, the first few examples and any notes.</summary>
public sealed record RuleSummary(string Name, int Removed, int Modified, IReadOnlyDictionary<string, int> Reasons,
    IReadOnlyList<RowChange> Examples, IReadOnlyList<string> Notes)
{
    /// <summary>How many example changes each rule keeps for the report.</summary>
    public const int ExampleCount = 5;
}

/// <summary>A change made by a named rule.</summary>
public sealed record RuleChange(string Rule, RowChange Change);
