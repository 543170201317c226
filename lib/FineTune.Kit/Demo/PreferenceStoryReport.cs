using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Evaluation;
using FineTune.Kit.Plots;
using FineTune.Kit.Preferences;
using Plotly.NET;
using Plotly.NET.CSharp;
using static FineTune.Kit.Plots.PlotlyTraces;

namespace FineTune.Kit.Demo;

/// <summary>
/// What <see cref="PreferenceStory"/> measured: the judge's score of each approach's replies with bootstrap
/// intervals and parts, paired differences against SFT, and how the judge, the reward model and DPO's implicit reward
/// separate chosen from rejected replies on held-out pairs, easy and hard negatives apart.
/// </summary>
public sealed class PreferenceStoryReport : IReport
{
    internal PreferenceStoryReport(PreferenceStoryOptions options, IReadOnlyList<ApproachReplies> approaches, IReadOnlyList<PairSeparation> separation,
        IReadOnlyList<string> heldOutKinds, PreferenceHistory reward, PreferenceHistory dpo, PreferenceHistory grpo, int trainPairs, TimeSpan elapsed)
    {
        Options = options;
        Approaches = approaches;
        Separation = separation;
        HeldOutKinds = heldOutKinds;
        RewardHistory = reward;
        DpoHistory = dpo;
        GrpoHistory = grpo;
        TrainPairs = trainPairs;
        Elapsed = elapsed;
    }

    /// <summary>The sizes and settings the story ran with.</summary>
    public PreferenceStoryOptions Options { get; }
    /// <summary>Base, SFT, SFT + DPO, SFT + RM + GRPO: replies and judge scores.</summary>
    public IReadOnlyList<ApproachReplies> Approaches { get; }
    /// <summary>The judge, the reward model and DPO's implicit reward on the held-out pairs.</summary>
    public IReadOnlyList<PairSeparation> Separation { get; }
    /// <summary>The negative kind of each held-out pair, in order.</summary>
    public IReadOnlyList<string> HeldOutKinds { get; }
    /// <summary>Per-step history of reward-model training.</summary>
    public PreferenceHistory RewardHistory { get; }
    /// <summary>Per-step history of DPO.</summary>
    public PreferenceHistory DpoHistory { get; }
    /// <summary>Per-step history of GRPO.</summary>
    public PreferenceHistory GrpoHistory { get; }
    /// <summary>Preference pairs DPO and the reward model trained on.</summary>
    public int TrainPairs { get; }
    /// <summary>Wall time of the whole story.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>The reward model's row of <see cref="Separation"/>.</summary>
    public PairSeparation RewardModel => Separation.First(s => s.Scorer == "reward model");

    /// <summary>Paired bootstrap interval of mean judge score (approach − SFT) over the same tickets.</summary>
    public ConfidenceInterval DifferenceFromSft(ApproachReplies approach)
    {
        var sft = Approaches.First(a => a.Name == "SFT");
        return new Bootstrap(Seed: Seeds.Default).PairedDifference(approach.Scores.Select(s => s.Score).ToArray(), sft.Scores.Select(s => s.Score).ToArray());
    }

    /// <summary>The table of approaches, one row each: name, judge score and interval, parts, difference from SFT, training time.</summary>
    public static IReadOnlyList<string> Header { get; } =
        ["approach", "judge score (95% CI)", "intent", "specifics", "no brush-off", "− SFT (paired 95% CI)", "training"];

    /// <summary>Rows of the approach table.</summary>
    public IEnumerable<IReadOnlyList<string>> Rows() => Approaches.Select(a =>
    {
        var s = a.Score;
        var d = a.Name == "SFT" ? "–" : F($"{DifferenceFromSft(a).Estimate:+0.000;-0.000} [{DifferenceFromSft(a).Lower:+0.000;-0.000}, {DifferenceFromSft(a).Upper:+0.000;-0.000}]");
        return (IReadOnlyList<string>)[a.Name, F($"{s.Estimate:0.000} ({s.Lower:0.000}–{s.Upper:0.000})"), F($"{a.Intent:0.000}"),
            F($"{a.Specifics:0.000}"), F($"{a.NoBrushOff:0.000}"), d, a.TrainedFor == TimeSpan.Zero ? "–" : F($"{a.TrainedFor.TotalSeconds:0} s")];
    });

    /// <inheritdoc/>
    public IReadOnlyList<GenericChart> Charts()
    {
        var names = Approaches.Select(a => a.Name).ToArray();
        var scores = Approaches.Select(a => a.Score).ToArray();
        var charts = new List<GenericChart>
        {
            Chart([
                Trace("bar", ("x", names), ("y", scores.Select(s => s.Estimate).ToArray()), ("name", "judge score"),
                    ("error_y", Obj(("type", "data"), ("symmetric", false), ("array", scores.Select(s => s.Upper - s.Estimate).ToArray()),
                        ("arrayminus", scores.Select(s => s.Estimate - s.Lower).ToArray())))),
            ], $"Reply relevance on {Approaches[0].Tickets.Count} held-out tickets (mean judge score, 95% bootstrap CI)", null, "judge score", ("yaxis", Obj(("range", new[] { 0.0, 1.0 })))),
            Chart([
                Trace("bar", ("x", names), ("y", Approaches.Select(a => a.Intent).ToArray()), ("name", "intent")),
                Trace("bar", ("x", names), ("y", Approaches.Select(a => Finite(a.Specifics)).ToArray()), ("name", "specifics")),
                Trace("bar", ("x", names), ("y", Approaches.Select(a => a.NoBrushOff).ToArray()), ("name", "no brush-off")),
            ], "The judge's parts per approach", null, "mean", ("barmode", "group")),
        };
        var rm = RewardModel;
        bool[] hard = HeldOutKinds.Select(PairSeparation.IsHard).ToArray();
        charts.Add(Chart([
            Trace("histogram", ("x", rm.Margins.Where((_, i) => !hard[i]).ToArray()), ("name", "easy negatives"), ("opacity", 0.6), ("nbinsx", 20)),
            Trace("histogram", ("x", rm.Margins.Where((_, i) => hard[i]).ToArray()), ("name", "hard negatives"), ("opacity", 0.6), ("nbinsx", 20)),
        ], $"Reward-model margins on {rm.Margins.Count} held-out pairs: score(chosen) − score(rejected)", "margin", "pairs", ("barmode", "overlay")));
        charts.Add(Chart([
            Trace("bar", ("x", Separation.Select(s => s.Scorer).ToArray()), ("y", Separation.Select(s => Finite(s.EasyAccuracy)).ToArray()), ("name", "easy negatives")),
            Trace("bar", ("x", Separation.Select(s => s.Scorer).ToArray()), ("y", Separation.Select(s => Finite(s.HardAccuracy)).ToArray()), ("name", "hard negatives")),
        ], "Pairwise accuracy on held-out pairs: easy versus hard negatives", null, "accuracy", ("barmode", "group"), ("yaxis", Obj(("range", new[] { 0.0, 1.0 })))));
        charts.Add(RewardHistory.Chart("accuracy").WithTitle("Reward model: training accuracy per step"));
        charts.Add(DpoHistory.Chart("rewards/margins").WithTitle("DPO: rewards/margins per step"));
        charts.Add(GrpoHistory.Chart("reward").WithTitle("GRPO: mean reward-model score of the sampled replies per step"));
        charts.Add(GrpoHistory.Chart("kl").WithTitle("GRPO: KL to the SFT model per step"));
        return charts;
    }

    /// <inheritdoc/>
    public string ToHtml()
    {
        var page = new HtmlPage("Preference tuning on the sample: does the reply address the ticket?");
        page.Paragraph(F($"{Approaches[0].Tickets.Count} held-out tickets answered greedily by each approach; the reply-relevance judge scores each reply (0.5 intent + 0.3 ticket specifics + 0.2 no canned brush-off). DPO, the reward model and GRPO start from the SFT model and train on {TrainPairs} preference pairs; {HeldOutKinds.Count} pairs are held out. Took {Elapsed.TotalMinutes:0.0} min."))
            .Table(Header, Rows());
        page.Heading("Held-out preference pairs").Table(["scorer", "accuracy", "easy negatives", "hard negatives", "mean margin easy", "mean margin hard"],
            Separation.Select(s => (IReadOnlyList<string>)[s.Scorer, F($"{s.Accuracy:0.000}"), F($"{s.EasyAccuracy:0.000}"), F($"{s.HardAccuracy:0.000}"),
                F($"{s.EasyMeanMargin:0.000}"), F($"{s.HardMeanMargin:0.000}")]));
        foreach (var chart in Charts()) page.Chart(chart);
        page.Heading("Example replies");
        int examples = Math.Min(5, Approaches[0].Tickets.Count);
        page.Table(["ticket", .. Approaches.Select(a => a.Name)], Enumerable.Range(0, examples).Select(i =>
            (IReadOnlyList<string>)[Approaches[0].Tickets[i], .. Approaches.Select(a => F($"{a.Replies[i]} [judge {a.Scores[i].Score:0.00}]"))]));
        return page.ToHtml();
    }

    /// <inheritdoc/>
    public string ToJson()
    {
        JsonObject Interval(ConfidenceInterval c) => new() { ["estimate"] = c.Estimate, ["lower"] = c.Lower, ["upper"] = c.Upper, ["level"] = c.Level };
        var approaches = new JsonArray();
        foreach (var a in Approaches)
        {
            var o = new JsonObject
            {
                ["name"] = a.Name, ["judge_score"] = Interval(a.Score), ["intent"] = a.Intent, ["specifics"] = Num(a.Specifics), ["no_brush_off"] = a.NoBrushOff,
                ["difference_from_sft"] = a.Name == "SFT" ? null : Interval(DifferenceFromSft(a)), ["training_seconds"] = a.TrainedFor.TotalSeconds,
                ["replies"] = new JsonArray(a.Replies.Select((r, i) => (JsonNode)new JsonObject
                {
                    ["ticket"] = a.Tickets[i], ["reply"] = r, ["score"] = a.Scores[i].Score, ["intent"] = a.Scores[i].Intent,
                    ["specifics"] = Num(a.Scores[i].Specifics), ["no_brush_off"] = a.Scores[i].NoBrushOff, ["reply_intent"] = a.Scores[i].ReplyIntent,
                }).ToArray()),
            };
            approaches.Add(o);
        }
        var doc = new JsonObject
        {
            ["approaches"] = approaches,
            ["held_out_pairs"] = new JsonObject
            {
                ["kinds"] = new JsonArray(HeldOutKinds.Select(k => (JsonNode)JsonValue.Create(k)!).ToArray()),
                ["scorers"] = new JsonArray(Separation.Select(s => (JsonNode)new JsonObject
                {
                    ["scorer"] = s.Scorer, ["accuracy"] = Num(s.Accuracy), ["easy_accuracy"] = Num(s.EasyAccuracy), ["hard_accuracy"] = Num(s.HardAccuracy),
                    ["easy_mean_margin"] = Num(s.EasyMeanMargin), ["hard_mean_margin"] = Num(s.HardMeanMargin),
                    ["margins"] = new JsonArray(s.Margins.Select(m => (JsonNode)JsonValue.Create(m)).ToArray()),
                }).ToArray()),
            },
            ["train_pairs"] = TrainPairs,
            ["history"] = new JsonObject
            {
                ["reward"] = JsonNode.Parse(RewardHistory.ToJson()), ["dpo"] = JsonNode.Parse(DpoHistory.ToJson()), ["grpo"] = JsonNode.Parse(GrpoHistory.ToJson()),
            },
            ["options"] = JsonSerializer.SerializeToNode(Options with { DataDirectory = Path.GetFileName(Path.GetFullPath(Options.DataDirectory).TrimEnd(Path.DirectorySeparatorChar)) }),
            ["seconds"] = Elapsed.TotalSeconds,
        };
        return doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <inheritdoc/>
    public void Save(string directory) => ReportFolder.Write(this, directory);

    private static JsonNode? Num(double? v) => v is { } x && double.IsFinite(x) ? JsonValue.Create(x) : null;

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
