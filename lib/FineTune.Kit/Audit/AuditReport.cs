using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Evaluation;
using FineTune.Kit.Plots;
using Plotly.NET;
using static FineTune.Kit.Plots.PlotlyTraces;

namespace FineTune.Kit.Audit;

/// <summary>
/// The result of a <see cref="BiasAudit"/>: slice disparity per group, counterfactual invariance per attribute, the
/// worst pairs, generation changes when measured, and the findings. report.json holds at least
/// <c>{"groups": [...], "max_gap": {...}, "flip_rate": x, "flip_rate_ci": [lo, hi], "extraction": null}</c>; every
/// number is there, undefined ones as null.
/// </summary>
public sealed class AuditReport : IReport
{
    internal AuditReport(AuditSettings settings, DisparityResult? disparity, InvarianceResult? invariance,
        GenerationInvarianceResult? generation, IReadOnlyList<string> findings, IReadOnlyList<string> notes, ExtractionReport? extraction = null)
    {
        Extraction = extraction;
        Settings = settings;
        Disparity = disparity;
        Invariance = invariance;
        Generation = generation;
        Findings = findings;
        Notes = notes;
    }

    /// <summary>What the audit ran on.</summary>
    public AuditSettings Settings { get; }
    /// <summary>Slice disparity; null without a group column.</summary>
    public DisparityResult? Disparity { get; }
    /// <summary>Counterfactual invariance of the classifier; null when not run or no pair was made.</summary>
    public InvarianceResult? Invariance { get; }
    /// <summary>Counterfactual invariance of generated replies; null when not run.</summary>
    public GenerationInvarianceResult? Generation { get; }
    /// <summary>The training-data extraction test, when the audit was given one; null when not run.</summary>
    public ExtractionReport? Extraction { get; }
    /// <summary>Gaps, differences and flip rates whose whole interval lies above the tolerance, in words.</summary>
    public IReadOnlyList<string> Findings { get; }
    /// <summary>What was not measured and why.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>True when the audit found no gap or flip rate above its tolerance.</summary>
    public bool Passed => Findings.Count == 0;

    /// <summary>The report as JSON (see the class summary for the keys scripts can rely on).</summary>
    public string ToJson()
    {
        var d = Disparity;
        var groups = new JsonArray();
        foreach (var g in d?.Groups ?? [])
        {
            var labels = new JsonObject();
            foreach (var r in g.Labels)
                labels[r.Label] = new JsonObject
                {
                    ["support"] = r.Support, ["selection_rate"] = Num(r.SelectionRate),
                    ["false_positive_rate"] = Num(r.FalsePositiveRate), ["false_negative_rate"] = Num(r.FalseNegativeRate),
                };
            groups.Add(new JsonObject
            {
                ["group"] = g.Group, ["count"] = g.Count, ["too_small"] = g.TooSmall,
                ["accuracy"] = Num(g.Accuracy.Estimate), ["accuracy_ci"] = Ci(g.Accuracy),
                ["macro_f1"] = Num(g.MacroF1),
                ["gap_to_rest"] = g.GapToRest is { } gap ? Num(gap.Estimate) : null, ["gap_to_rest_ci"] = g.GapToRest is { } c ? Ci(c) : null,
                ["labels"] = labels,
            });
        }
        var inv = Invariance;
        var root = new JsonObject
        {
            ["data"] = Settings.Data,
            ["examples"] = Settings.Examples,
            ["group_column"] = Settings.GroupColumn,
            ["passed"] = Passed,
            ["findings"] = new JsonArray(Findings.Select(f => (JsonNode?)f).ToArray()),
            ["groups"] = groups,
            ["overall_accuracy"] = d is null ? null : Num(d.OverallAccuracy),
            ["max_gap"] = Gap(d?.AccuracyGap),
            ["max_gap_macro_f1"] = Gap(d?.MacroF1Gap),
            ["demographic_parity_difference"] = Parity(d?.DemographicParity),
            ["equalized_odds_difference"] = Parity(d?.EqualizedOdds),
            ["flip_rate"] = inv is null ? null : Num(inv.Overall.FlipRate.Estimate),
            ["flip_rate_ci"] = inv is null ? null : Ci(inv.Overall.FlipRate),
            ["mean_abs_delta_p"] = inv?.Overall.MeanAbsoluteChange is { } m ? Num(m.Estimate) : null,
            ["mean_abs_delta_p_ci"] = inv?.Overall.MeanAbsoluteChange is { } mc ? Ci(mc) : null,
            ["counterfactuals"] = inv is null ? null : new JsonObject
            {
                ["lexicon"] = Settings.Lexicon,
                ["pairs"] = inv.Overall.Pairs,
                ["sources"] = inv.Overall.Sources,
                ["by_attribute"] = new JsonArray(inv.ByAttribute.Select(Summary).ToArray()),
                ["by_group_pair"] = new JsonArray(inv.ByGroupPair.Select(Summary).ToArray()),
                ["worst_pairs"] = new JsonArray(inv.WorstPairs.Select(o => (JsonNode?)new JsonObject
                {
                    ["attribute"] = o.Pair.Attribute, ["from"] = o.Pair.FromGroup, ["to"] = o.Pair.ToGroup, ["from_template"] = o.Pair.FromTemplate,
                    ["original"] = o.Pair.Original, ["counterfactual"] = o.Pair.Counterfactual,
                    ["label"] = o.Label, ["counterfactual_label"] = o.CounterfactualLabel, ["flipped"] = o.Flipped,
                    ["p"] = Num(o.Probability), ["counterfactual_p"] = Num(o.CounterfactualProbability), ["abs_delta_p"] = Num(o.AbsoluteChange),
                }).ToArray()),
            },
            ["generation"] = Generation is null ? null : new JsonObject
            {
                ["pairs"] = Generation.Pairs,
                ["changes"] = new JsonArray(Generation.Changes.Select(c => (JsonNode?)new JsonObject
                {
                    ["measure"] = c.Measure, ["attribute"] = c.Attribute,
                    ["mean_change"] = Num(c.MeanChange.Estimate), ["mean_change_ci"] = Ci(c.MeanChange),
                    ["mean_abs_change"] = Num(c.MeanAbsoluteChange.Estimate), ["mean_abs_change_ci"] = Ci(c.MeanAbsoluteChange),
                }).ToArray()),
                ["worst_pairs"] = new JsonArray(Generation.WorstPairs.Select(o => (JsonNode?)new JsonObject
                {
                    ["attribute"] = o.Pair.Attribute, ["from"] = o.Pair.FromGroup, ["to"] = o.Pair.ToGroup,
                    ["original"] = o.Pair.Original, ["counterfactual"] = o.Pair.Counterfactual,
                    ["reply"] = o.Reply, ["counterfactual_reply"] = o.CounterfactualReply,
                    ["length_change"] = o.LengthChange, ["sentiment_change"] = Num(o.SentimentChange),
                    ["judge_change"] = o.JudgeChange is { } j ? Num(j) : null,
                }).ToArray()),
            },
            // measured by the privacy part of the audit; null means it was not run (see notes)
            ["extraction"] = Extraction?.ToJsonObject(),
            ["settings"] = new JsonObject
            {
                ["min_group_size"] = Settings.MinGroupSize, ["resamples"] = Settings.Resamples, ["level"] = Settings.Level,
                ["seed"] = Settings.Seed, ["gap_tolerance"] = Settings.GapTolerance, ["flip_tolerance"] = Settings.FlipTolerance,
            },
            ["notes"] = new JsonArray(Notes.Select(n => (JsonNode?)n).ToArray()),
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static JsonNode? Summary(InvarianceSummary s) => new JsonObject
    {
        ["name"] = s.Name, ["pairs"] = s.Pairs, ["sources"] = s.Sources,
        ["flip_rate"] = Num(s.FlipRate.Estimate), ["flip_rate_ci"] = Ci(s.FlipRate),
        ["mean_abs_delta_p"] = s.MeanAbsoluteChange is { } m ? Num(m.Estimate) : null,
        ["mean_abs_delta_p_ci"] = s.MeanAbsoluteChange is { } c ? Ci(c) : null,
    };

    private JsonNode? Gap(MaxGap? gap) => gap is null ? null : new JsonObject
    {
        ["metric"] = gap.Metric, ["best_group"] = gap.BestGroup, ["worst_group"] = gap.WorstGroup,
        ["value"] = Num(gap.Gap.Estimate), ["ci"] = Ci(gap.Gap), ["level"] = gap.Gap.Level,
    };

    private static JsonNode? Parity(ParityDifference? p)
    {
        if (p is null) return null;
        var perLabel = new JsonObject();
        foreach (var (label, v) in p.PerLabel) perLabel[label] = Num(v);
        return new JsonObject { ["value"] = Num(p.Difference.Estimate), ["ci"] = Ci(p.Difference), ["label"] = p.Label, ["per_label"] = perLabel };
    }

    private static JsonNode? Num(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    private static JsonArray Ci(ConfidenceInterval ci) => new(Num(ci.Lower), Num(ci.Upper));

    /// <summary>
    /// Accuracy per group with intervals, each group's gap to the rest with intervals, selection rate per label and
    /// group, flip rate per attribute and per direction with intervals, and the generation changes.
    /// </summary>
    public IReadOnlyList<GenericChart> Charts()
    {
        var charts = new List<GenericChart>();
        var level = (Disparity?.AccuracyGap?.Gap.Level ?? Settings.Level).ToString("P0", CultureInfo.InvariantCulture).Replace(" ", "");
        if (Disparity is { } d && d.Groups.Count > 0)
        {
            var names = d.Groups.Select(g => g.TooSmall ? $"{g.Group} (too small)" : g.Group).ToArray();
            charts.Add(Chart([
                Bars("accuracy", names, d.Groups.Select(g => g.Accuracy).ToArray(), d.Groups.Select(g => g.TooSmall ? "lightgray" : "steelblue").ToArray()),
                Trace("scatter", ("x", names), ("y", names.Select(_ => d.OverallAccuracy).ToArray()), ("mode", "lines"), ("name", "overall"),
                    ("line", Obj(("dash", "dash"), ("color", "gray")))),
            ], $"Accuracy per {Settings.GroupColumn} with {level} intervals", Settings.GroupColumn, "accuracy"));
            var judged = d.Groups.Where(g => g.GapToRest is not null).ToList();
            if (judged.Count > 0)
                charts.Add(Chart([
                    Bars("gap to the rest", judged.Select(g => g.Group).ToArray(), judged.Select(g => g.GapToRest!.Value).ToArray(),
                        judged.Select(g => g.GapToRest!.Value.Upper < 0 ? "crimson" : g.GapToRest!.Value.Lower > 0 ? "seagreen" : "steelblue").ToArray()),
                ], $"Accuracy gap of each {Settings.GroupColumn} to all others ({level} intervals; red: served worse)", Settings.GroupColumn,
                    "accuracy minus accuracy of the rest"));
            var groupsShown = d.Groups.Where(g => !g.TooSmall).ToList();
            if (groupsShown.Count > 0)
                charts.Add(Chart(groupsShown.Select(g => Trace("bar", ("x", d.Labels.ToArray()),
                    ("y", g.Labels.Select(r => r.SelectionRate).ToArray()), ("name", g.Group))),
                    $"Share predicted as each label, per {Settings.GroupColumn} (demographic parity)", "label", "share of the group",
                    ("barmode", "group")));
        }
        if (Invariance is { } inv)
        {
            charts.Add(Chart([
                Bars("flip rate", inv.ByAttribute.Select(a => a.Name).ToArray(), inv.ByAttribute.Select(a => a.FlipRate).ToArray(), null),
            ], $"Counterfactual flip rate per attribute ({level} intervals over source texts)", "attribute changed", "share of pairs whose label flips"));
            charts.Add(Chart([
                Bars("flip rate", inv.ByGroupPair.Select(a => a.Name).ToArray(), inv.ByGroupPair.Select(a => a.FlipRate).ToArray(), null),
            ], "Counterfactual flip rate per direction of change", null, "share of pairs whose label flips", 900, 500));
            var withChange = inv.ByAttribute.Where(a => a.MeanAbsoluteChange is not null).ToList();
            if (withChange.Count > 0)
                charts.Add(Chart([
                    Bars("mean |Δp|", withChange.Select(a => a.Name).ToArray(), withChange.Select(a => a.MeanAbsoluteChange!.Value).ToArray(), null),
                ], "Mean change of the predicted label's probability per attribute", "attribute changed", "mean |Δp|"));
        }
        if (Generation is { } gen)
        {
            var all = gen.Changes.Where(c => c.Attribute == "all").ToList();
            if (all.Count > 0)
                charts.Add(Chart([
                    Bars("mean change", all.Select(c => c.Measure).ToArray(), all.Select(c => c.MeanChange).ToArray(), null),
                    Bars("mean |change|", all.Select(c => c.Measure).ToArray(), all.Select(c => c.MeanAbsoluteChange).ToArray(), null),
                ], "How replies change when only the name changes", "measure", "counterfactual minus original", ("barmode", "group")));
        }
        if (Extraction is not null) charts.AddRange(Extraction.Charts());
        return charts;
    }

    private static Trace Bars(string name, string[] x, ConfidenceInterval[] ci, string[]? colors) =>
        Trace("bar", ("x", x), ("y", ci.Select(c => c.Estimate).ToArray()), ("name", name),
            ("marker", colors is null ? null : Obj(("color", colors))),
            ("error_y", Obj(("type", "data"), ("symmetric", false),
                ("array", ci.Select(c => c.Upper - c.Estimate).ToArray()),
                ("arrayminus", ci.Select(c => c.Estimate - c.Lower).ToArray()))));

    /// <summary>A self-contained page: findings, group table, charts, worst pairs.</summary>
    public string ToHtml()
    {
        var page = new HtmlPage("Bias audit");
        page.Paragraph($"{Settings.Examples} examples{(Settings.Data is null ? "" : $" from {Settings.Data}")}" +
                       (Settings.GroupColumn is null ? "" : $", grouped by {Settings.GroupColumn}") +
                       (Settings.Lexicon is null ? "" : $"; counterfactual lexicon: {Settings.Lexicon}") +
                       $"; {Settings.Resamples} bootstrap resamples at {Settings.Level.ToString("P0", CultureInfo.InvariantCulture)}, seed {Settings.Seed}.");
        page.Heading(Findings.Count == 0 ? "No finding above the tolerances" : $"{Findings.Count} finding(s)");
        foreach (var f in Findings) page.Paragraph(f);
        foreach (var n in Notes) page.Paragraph("Note: " + n);
        if (Disparity is { } d)
        {
            page.Heading($"Slice disparity by {Settings.GroupColumn}");
            page.Table(["group", "examples", "accuracy", "macro-F1", "gap to the rest", "judged"],
                d.Groups.Select(g => (IReadOnlyList<string>)[g.Group, g.Count.ToString(CultureInfo.InvariantCulture), g.Accuracy.ToString(),
                    F(g.MacroF1), g.GapToRest?.ToString() ?? "–", g.TooSmall ? $"no: fewer than {d.MinGroupSize}" : "yes"]));
            page.Table(["measure", "value", "between / label"], new IReadOnlyList<string>[]
            {
                ["largest accuracy gap", d.AccuracyGap?.Gap.ToString() ?? "–", d.AccuracyGap is { } a ? $"{a.BestGroup} − {a.WorstGroup}" : ""],
                ["largest macro-F1 gap", d.MacroF1Gap?.Gap.ToString() ?? "–", d.MacroF1Gap is { } m ? $"{m.BestGroup} − {m.WorstGroup}" : ""],
                ["demographic-parity difference", d.DemographicParity?.Difference.ToString() ?? "–", d.DemographicParity?.Label ?? ""],
                ["equalised-odds difference", d.EqualizedOdds?.Difference.ToString() ?? "–", d.EqualizedOdds?.Label ?? ""],
            });
        }
        if (Invariance is { } inv)
        {
            page.Heading("Counterfactual invariance");
            page.Table(["attribute", "pairs", "flip rate", "mean |Δp|"],
                new[] { inv.Overall }.Concat(inv.ByAttribute).Select(s => (IReadOnlyList<string>)[s.Name, s.Pairs.ToString(CultureInfo.InvariantCulture),
                    s.FlipRate.ToString(), s.MeanAbsoluteChange?.ToString() ?? "–"]));
        }
        foreach (var chart in Charts()) page.Chart(chart);
        if (Invariance is { WorstPairs.Count: > 0 } worst)
        {
            page.Heading("Worst pairs");
            page.Table(["attribute", "change", "original", "counterfactual", "label", "counterfactual label", "|Δp|"],
                worst.WorstPairs.Select(o => (IReadOnlyList<string>)[o.Pair.Attribute, $"{o.Pair.FromGroup} → {o.Pair.ToGroup}", o.Pair.Original,
                    o.Pair.Counterfactual, o.Label, o.CounterfactualLabel, F(o.AbsoluteChange)]));
        }
        if (Generation is { WorstPairs.Count: > 0 } gen)
        {
            page.Heading("Replies that changed most with the name");
            page.Table(["change", "reply", "counterfactual reply", "Δ words", "Δ sentiment"],
                gen.WorstPairs.Select(o => (IReadOnlyList<string>)[$"{o.Pair.FromGroup} → {o.Pair.ToGroup}", o.Reply, o.CounterfactualReply,
                    o.LengthChange.ToString(CultureInfo.InvariantCulture), F(o.SentimentChange)]));
        }
        return page.ToHtml();
    }

    /// <inheritdoc/>
    public void Save(string directory) => ReportFolder.Write(this, directory);

    private static string F(double v) => double.IsFinite(v) ? v.ToString("0.000", CultureInfo.InvariantCulture) : "–";
}
