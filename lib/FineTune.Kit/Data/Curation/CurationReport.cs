using System.Globalization;
using System.Text.Json.Nodes;
using FineTune.Kit.Plots;
using Plotly.NET;

namespace FineTune.Kit.Data.Curation;

/// <summary>
/// Lengths in characters before and after curation, counted into the same bins. Equal-width bins span the lengths up
/// to the <see cref="ClipQuantile"/> quantile, so that a few very long outliers do not squeeze every other row into
/// the first bar; when longer texts exist, one more bin (<see cref="LastBinOpen"/>) holds all of them.
/// </summary>
/// <param name="Edges">Bin edges (one more than the counts); the last bin includes its upper edge, which is the longest length when the last bin is open.</param>
/// <param name="Before">Rows per bin before curation.</param>
/// <param name="After">Rows per bin after curation.</param>
/// <param name="ClipQuantile">The quantile of the lengths (before curation) the equal-width bins reach (0.99).</param>
/// <param name="LastBinOpen">True when the last bin collects every text longer than the equal-width bins reach.</param>
public sealed record LengthHistogram(double[] Edges, int[] Before, int[] After, double ClipQuantile = LengthHistogram.DefaultClipQuantile, bool LastBinOpen = false)
{
    /// <summary>The quantile the equal-width bins reach.</summary>
    public const double DefaultClipQuantile = 0.99;
}

/// <summary>Row counts of a train/validation/test split and any leaks found between them.</summary>
public sealed record SplitSummary(int Train, int Validation, int Test, IReadOnlyList<Leak> Leaks);

/// <summary>
/// Everything a curation run did: rows in and out, rows the loader could not read, per-rule removed/modified counts
/// (rows in = sum of removed + rows out, exactly), every change with its reason, duplicate clusters, length
/// histograms and label distributions before and after. Rows the loader skipped are listed in
/// <see cref="InvalidRows"/> and are NOT counted in <see cref="InputRows"/>: input rows are the rows that reached the
/// first rule.
/// </summary>
public sealed class CurationReport : IReport
{
    internal CurationReport(Dataset before, Dataset after, IReadOnlyList<RuleSummary> rules, IReadOnlyList<RuleChange> changes,
        IReadOnlyList<DuplicateCluster> clusters, string labelColumn)
    {
        InputRows = before.Count;
        OutputRows = after.Count;
        InvalidRows = before.InvalidRows;
        Source = before.Source;
        Rules = rules;
        Changes = changes;
        DuplicateClusters = clusters;
        LabelColumn = labelColumn;
        LabelsBefore = Labels(before, labelColumn);
        LabelsAfter = Labels(after, labelColumn);
        Lengths = Histogram(before.Rows.Select(r => r.Content().Length).ToList(), after.Rows.Select(r => r.Content().Length).ToList());
    }

    /// <summary>The input file, if any.</summary>
    public string? Source { get; }

    /// <summary>Rows that reached the first rule (rows the loader skipped are not included).</summary>
    public int InputRows { get; }

    /// <summary>Rows left after the last rule.</summary>
    public int OutputRows { get; }

    /// <summary>Rows the loader skipped, with line and reason.</summary>
    public IReadOnlyList<InvalidRow> InvalidRows { get; }

    /// <summary>Per-rule counts and examples, in pipeline order.</summary>
    public IReadOnlyList<RuleSummary> Rules { get; }

    /// <summary>Every row removed or modified, by which rule and why.</summary>
    public IReadOnlyList<RuleChange> Changes { get; }

    /// <summary>Exact and near duplicate clusters.</summary>
    public IReadOnlyList<DuplicateCluster> DuplicateClusters { get; }

    /// <summary>The label column used for the distributions.</summary>
    public string LabelColumn { get; }

    /// <summary>Rows per label before curation (empty when there is no label column).</summary>
    public IReadOnlyDictionary<string, int> LabelsBefore { get; }

    /// <summary>Rows per label after curation.</summary>
    public IReadOnlyDictionary<string, int> LabelsAfter { get; }

    /// <summary>Character lengths before and after.</summary>
    public LengthHistogram Lengths { get; }

    /// <summary>The split, once the caller has split the curated data (see <see cref="RecordSplits"/>).</summary>
    public SplitSummary? Splits { get; private set; }

    /// <summary>Rows the augmenter added to the training split (see <see cref="RecordAugmentation"/>); null when none ran.</summary>
    public int? AugmentedRows { get; private set; }

    /// <summary>Total rows removed by all rules; equals <see cref="InputRows"/> - <see cref="OutputRows"/>.</summary>
    public int Removed => Rules.Sum(r => r.Removed);

    /// <summary>
    /// Class imbalance: rows of the largest label divided by rows of the smallest (1 is balanced; null without labels).
    /// </summary>
    public static double? Imbalance(IReadOnlyDictionary<string, int> counts) =>
        counts.Count == 0 ? null : Math.Round((double)counts.Values.Max() / counts.Values.Min(), 3);

    /// <summary>Records the split sizes and (optionally) a leakage check in the report.</summary>
    public CurationReport RecordSplits(DatasetSplits splits, IReadOnlyList<Leak>? leaks = null)
    {
        Splits = new SplitSummary(splits.Train.Count, splits.Validation.Count, splits.Test.Count, leaks ?? []);
        return this;
    }

    /// <summary>Records how many rows augmentation added to the training split (written as <c>augmented_rows</c>).</summary>
    public CurationReport RecordAugmentation(int addedRows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(addedRows);
        AugmentedRows = addedRows;
        return this;
    }

    // ---------- JSON ----------

    /// <summary>The report as indented JSON (snake_case keys; see docs/data.md for the fields).</summary>
    public string ToJson() => ToJsonObject().ToJsonString(Json.Indented);

    /// <summary>The report as a JSON object.</summary>
    public JsonObject ToJsonObject()
    {
        var o = new JsonObject
        {
            ["source"] = Source,
            ["input_rows"] = InputRows,
            ["output_rows"] = OutputRows,
            ["removed_rows"] = Removed,
            ["invalid_rows"] = new JsonArray(InvalidRows.Select(r => (JsonNode)new JsonObject { ["line"] = r.Line, ["error"] = r.Error }).ToArray()),
            ["rules"] = new JsonArray(Rules.Select(r => (JsonNode)new JsonObject
            {
                ["name"] = r.Name,
                ["removed"] = r.Removed,
                ["modified"] = r.Modified,
                ["reasons"] = new JsonObject(r.Reasons.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
                ["examples"] = new JsonArray(r.Examples.Select(ChangeJson).ToArray()),
                ["notes"] = new JsonArray(r.Notes.Select(n => (JsonNode)n).ToArray()),
            }).ToArray()),
            ["duplicate_clusters"] = new JsonArray(DuplicateClusters.Select(c => (JsonNode)new JsonObject
            {
                ["kind"] = c.Kind,
                ["kept_line"] = c.KeptLine,
                ["removed_lines"] = new JsonArray(c.RemovedLines.Select(l => (JsonNode)l).ToArray()),
            }).ToArray()),
            ["label_column"] = LabelColumn,
            ["labels_before"] = Counts(LabelsBefore),
            ["labels_after"] = Counts(LabelsAfter),
            ["imbalance_before"] = Imbalance(LabelsBefore),
            ["imbalance_after"] = Imbalance(LabelsAfter),
            ["length_histogram"] = new JsonObject
            {
                ["edges"] = new JsonArray(Lengths.Edges.Select(e => (JsonNode)e).ToArray()),
                ["before"] = new JsonArray(Lengths.Before.Select(e => (JsonNode)e).ToArray()),
                ["after"] = new JsonArray(Lengths.After.Select(e => (JsonNode)e).ToArray()),
                ["clip_quantile"] = Lengths.ClipQuantile,
                ["last_bin_open"] = Lengths.LastBinOpen,
            },
            ["changes"] = new JsonArray(Changes.Select(c => (JsonNode)new JsonObject
            {
                ["rule"] = c.Rule,
                ["line"] = c.Change.Line,
                ["action"] = c.Change.Kind == ChangeKind.Removed ? "removed" : "modified",
                ["reason"] = c.Change.Reason,
            }).ToArray()),
        };
        if (Splits is { } s)
            o["splits"] = new JsonObject
            {
                ["train"] = s.Train,
                ["validation"] = s.Validation,
                ["test"] = s.Test,
                ["leaks"] = new JsonArray(s.Leaks.Select(l => (JsonNode)new JsonObject
                {
                    ["kind"] = l.Kind, ["split_a"] = l.SplitA, ["line_a"] = l.LineA, ["split_b"] = l.SplitB, ["line_b"] = l.LineB,
                    ["similarity"] = Math.Round(l.Similarity, 3),
                }).ToArray()),
            };
        if (AugmentedRows is { } added) o["augmented_rows"] = added;
        return o;

        static JsonNode ChangeJson(RowChange c) => new JsonObject
        {
            ["line"] = c.Line,
            ["action"] = c.Kind == ChangeKind.Removed ? "removed" : "modified",
            ["reason"] = c.Reason,
            ["before"] = Abbreviate(c.Before),
            ["after"] = Abbreviate(c.After),
        };

        static JsonObject Counts(IReadOnlyDictionary<string, int> d) => new(d.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
    }

    // ---------- charts and HTML ----------

    /// <summary>
    /// The report's charts: rows removed and modified per rule, length histogram before/after, and (with labels)
    /// the label distribution before/after.
    /// </summary>
    public IReadOnlyList<GenericChart> Charts()
    {
        var charts = new List<GenericChart>();
        var names = Rules.Select(r => r.Name).ToArray();
        charts.Add(Grouped("Rows removed and modified per rule", "rule", "rows",
            ("removed", names, Rules.Select(r => r.Removed).ToArray()), ("modified", names, Rules.Select(r => r.Modified).ToArray())));
        int binCount = Lengths.Before.Length;
        var bins = Enumerable.Range(0, binCount)
            .Select(i => Lengths.LastBinOpen && i == binCount - 1
                ? $"≥{Lengths.Edges[i]:0} (to {Lengths.Edges[i + 1]:0})"
                : $"{Lengths.Edges[i]:0}-{Lengths.Edges[i + 1]:0}").ToArray();
        var quantile = (Lengths.ClipQuantile * 100).ToString("0.#", CultureInfo.InvariantCulture);
        var lengthTitle = Lengths.LastBinOpen
            ? $"Text length (characters)<br><sup>equal bins up to the {quantile}th percentile ({Lengths.Edges[^2]:0}); the last bar holds every longer text</sup>"
            : "Text length (characters)";
        charts.Add(Grouped(lengthTitle, "characters", "rows", ("before", bins, Lengths.Before), ("after", bins, Lengths.After)));
        if (LabelsBefore.Count > 0)
        {
            var labels = LabelsBefore.Keys.Union(LabelsAfter.Keys).OrderBy(l => l, StringComparer.Ordinal).ToArray();
            charts.Add(Grouped($"Label distribution ('{LabelColumn}')", "label", "rows",
                ("before", labels, labels.Select(l => LabelsBefore.GetValueOrDefault(l)).ToArray()),
                ("after", labels, labels.Select(l => LabelsAfter.GetValueOrDefault(l)).ToArray())));
        }
        return charts;
    }

    private static GenericChart Grouped(string title, string xTitle, string yTitle, params (string Name, string[] Keys, int[] Values)[] series) =>
        PlotlyTraces.Chart(series.Select(s => PlotlyTraces.Trace("bar", ("x", s.Keys), ("y", s.Values), ("name", s.Name))),
            title, xTitle, yTitle, ("barmode", "group"), ("showlegend", true));

    /// <summary>The report as an HTML page: summary, per-rule table with examples, charts, clusters, invalid rows.</summary>
    public HtmlPage ToHtmlPage()
    {
        var page = new HtmlPage("Curation report")
            .Paragraph($"{Source ?? "dataset"}: {InputRows} rows in, {OutputRows} rows out, {Removed} removed by rules" +
                       $"{(InvalidRows.Count > 0 ? $", {InvalidRows.Count} malformed rows skipped by the loader (not counted in rows in)" : "")}.");
        page.Heading("Rules").Table(["rule", "removed", "modified", "reasons"],
            Rules.Select(r => (IReadOnlyList<string>)[r.Name, Num(r.Removed), Num(r.Modified), string.Join("; ", r.Reasons.Select(kv => $"{kv.Key}: {kv.Value}"))]));
        foreach (var chart in Charts()) page.Chart(chart);
        if (Splits is { } s)
        {
            page.Heading("Splits").Table(["train", "validation", "test", "leaks"], [[Num(s.Train), Num(s.Validation), Num(s.Test), Num(s.Leaks.Count)]]);
            if (s.Leaks.Count > 0)
                page.Table(["kind", "split", "line", "split", "line", "similarity"],
                    s.Leaks.Take(50).Select(l => (IReadOnlyList<string>)[l.Kind, l.SplitA, Num(l.LineA), l.SplitB, Num(l.LineB), l.Similarity.ToString("0.00", CultureInfo.InvariantCulture)]));
        }
        page.Heading("Examples per rule");
        foreach (var r in Rules.Where(r => r.Examples.Count > 0))
            page.Heading(r.Name, 3).Table(["line", "action", "reason", "before", "after"],
                r.Examples.Select(c => (IReadOnlyList<string>)[Num(c.Line), c.Kind.ToString().ToLowerInvariant(), c.Reason, Abbreviate(c.Before) ?? "", Abbreviate(c.After) ?? ""]));
        foreach (var note in Rules.SelectMany(r => r.Notes.Select(n => $"{r.Name}: {n}")).Take(100)) page.Paragraph(note);
        if (DuplicateClusters.Count > 0)
            page.Heading("Duplicate clusters").Table(["kind", "kept line", "removed lines"],
                DuplicateClusters.Take(100).Select(c => (IReadOnlyList<string>)[c.Kind, Num(c.KeptLine), string.Join(", ", c.RemovedLines)]));
        if (InvalidRows.Count > 0)
            page.Heading("Malformed rows").Table(["line", "error"], InvalidRows.Select(r => (IReadOnlyList<string>)[Num(r.Line), r.Error]));
        return page;
    }

    /// <summary>The HTML page as a string.</summary>
    public string ToHtml() => ToHtmlPage().ToHtml();

    /// <summary>Writes report.html and report.json into <paramref name="directory"/> (see <see cref="ReportFolder"/>).</summary>
    public void Save(string directory) => ReportFolder.Write(this, directory);

    /// <inheritdoc/>
    public override string ToString() =>
        $"{InputRows} rows in, {OutputRows} out; " + string.Join(", ", Rules.Select(r => $"{r.Name}: -{r.Removed}/~{r.Modified}"));

    private static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string? Abbreviate(string? s) => s is null ? null : s.Length <= 300 ? s : s[..300] + "…";

    private static IReadOnlyDictionary<string, int> Labels(Dataset d, string column) =>
        d.Rows.Select(r => r[column]).Where(l => l is not null).GroupBy(l => l!).ToDictionary(g => g.Key, g => g.Count());

    private static LengthHistogram Histogram(IReadOnlyList<int> before, IReadOnlyList<int> after)
    {
        const int bins = 20;
        const double q = LengthHistogram.DefaultClipQuantile;
        int max = Math.Max(before.DefaultIfEmpty(0).Max(), after.DefaultIfEmpty(0).Max());
        // nearest-rank quantile of the lengths before curation (a superset of those after)
        var sorted = (before.Count > 0 ? before : after).Order().ToArray();
        int clip = sorted.Length == 0 ? 0 : sorted[Math.Max(0, (int)Math.Ceiling(q * sorted.Length) - 1)];
        double width = Math.Max(1, Math.Ceiling((clip + 1) / (double)bins));
        bool open = max >= bins * width;
        var edges = Enumerable.Range(0, bins + 1).Select(i => i * width).ToList();
        if (open) edges.Add(max);
        int count = edges.Count - 1;
        int[] Count(IReadOnlyList<int> values)
        {
            var counts = new int[count];
            foreach (var v in values) counts[Math.Min(count - 1, (int)(v / width))]++;
            return counts;
        }
        return new LengthHistogram(edges.ToArray(), Count(before), Count(after), q, open);
    }
}
