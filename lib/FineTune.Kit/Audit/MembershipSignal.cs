using System.Text.Json.Nodes;
using FineTune.Kit.Evaluation;
using FineTune.Kit.Models;
using FineTune.Kit.Plots;
using Plotly.NET;
using static FineTune.Kit.Plots.PlotlyTraces;

namespace FineTune.Kit.Audit;

/// <summary>
/// Membership-inference signal: the model's loss (mean negative log-likelihood per token, in nats) on each training
/// example and each held-out example. A model that memorised its training data has lower loss on it; the gap
/// mean(held-out) − mean(train), with an unpaired bootstrap interval, and the AUC of "low loss means member" say how
/// much an attacker holding an example could learn about whether it was trained on. An interval covering 0 and an AUC
/// near 0.5 mean no measurable signal.
/// </summary>
public sealed class MembershipSignal
{
    private readonly CausalLM _model;
    private Bootstrap _bootstrap = new(1000, 0.95, Seeds.Default);

    private MembershipSignal(CausalLM model) => _model = model;

    /// <summary>Measures <paramref name="model"/> (with its adapters); it needs a tokenizer.</summary>
    public static MembershipSignal For(CausalLM model)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.RequireTokenizer();
        return new MembershipSignal(model);
    }

    /// <summary>The bootstrap of the intervals (default 1,000 resamples, 95%, seed <see cref="Seeds.Default"/>).</summary>
    public MembershipSignal Bootstrap(Bootstrap bootstrap)
    {
        ArgumentNullException.ThrowIfNull(bootstrap);
        bootstrap.Validate();
        _bootstrap = bootstrap;
        return this;
    }

    /// <summary>
    /// Loss of every example, then the report. Texts are cut to the model's context; a text of fewer than two tokens
    /// has nothing to predict and is an error naming it.
    /// </summary>
    public MembershipReport Measure(IReadOnlyList<string> training, IReadOnlyList<string> heldOut) =>
        MembershipReport.FromLosses(Losses("training", training), Losses("held-out", heldOut), _bootstrap);

    /// <summary>Mean negative log-likelihood per token (nats) of each text, every token after the first predicted.</summary>
    public double[] Losses(string what, IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var tok = _model.RequireTokenizer();
        var losses = new double[texts.Count];
        for (var i = 0; i < texts.Count; i++)
        {
            var ids = tok.Encode(texts[i] ?? throw new ArgumentException($"{what} example {i} is null"))
                .Take(_model.Config.MaxPositions).Select(t => (long)t).ToArray();
            if (ids.Length < 2) throw new ArgumentException($"{what} example {i} has {ids.Length} token(s); a loss needs at least two");
            losses[i] = -_model.ContinuationLogProbs(ids[..1], [ids[1..]], perToken: true)[0];
        }
        return losses;
    }
}

/// <summary>Per-example losses of training and held-out examples, their gap with an interval, and the AUC.</summary>
public sealed class MembershipReport : IReport
{
    private MembershipReport(IReadOnlyList<double> train, IReadOnlyList<double> heldOut, ConfidenceInterval gap, ConfidenceInterval auc)
    {
        TrainLosses = train;
        HeldOutLosses = heldOut;
        Gap = gap;
        Auc = auc;
    }

    /// <summary>
    /// The report of given losses (lower means the model finds the example more likely): gap = mean(held-out) −
    /// mean(train) and AUC = P(a training loss is below a held-out one), ties half, each with an unpaired bootstrap interval.
    /// </summary>
    public static MembershipReport FromLosses(IReadOnlyList<double> trainLosses, IReadOnlyList<double> heldOutLosses, Bootstrap bootstrap)
    {
        ArgumentNullException.ThrowIfNull(bootstrap);
        if (trainLosses.Concat(heldOutLosses).Any(l => !double.IsFinite(l))) throw new ArgumentException("every loss must be a finite number");
        var gap = PrivacyStatistics.MeanDifference(heldOutLosses, trainLosses, bootstrap);
        // a member has the lower loss: the negated loss is the classifier's score
        var auc = PrivacyStatistics.Unpaired(heldOutLosses, trainLosses, bootstrap, (held, train) => PrivacyStatistics.Auc(
            train.Select(l => -l).ToArray(), held.Select(l => -l).ToArray()));
        return new MembershipReport(trainLosses, heldOutLosses, gap, auc);
    }

    /// <summary>Loss per token of each training example (nats).</summary>
    public IReadOnlyList<double> TrainLosses { get; }
    /// <summary>Loss per token of each held-out example (nats).</summary>
    public IReadOnlyList<double> HeldOutLosses { get; }
    /// <summary>mean(held-out loss) − mean(training loss): positive when training examples are easier for the model.</summary>
    public ConfidenceInterval Gap { get; }
    /// <summary>AUC of the loss as a membership classifier (0.5: chance, 1: every training example below every held-out one).</summary>
    public ConfidenceInterval Auc { get; }

    /// <summary>
    /// The numbers as a JSON object (the "membership" part of an audit report):
    /// <c>{"train_loss": x, "heldout_loss": y, "gap": g, "gap_ci": [lo, hi], "auc": a, "auc_ci": [lo, hi], ...}</c>.
    /// </summary>
    public JsonObject ToJsonObject() => new()
    {
        ["train_loss"] = TrainLosses.Average(),
        ["heldout_loss"] = HeldOutLosses.Average(),
        ["gap"] = PrivacyStatistics.Finite(Gap.Estimate),
        ["gap_ci"] = PrivacyStatistics.Interval(Gap),
        ["auc"] = PrivacyStatistics.Finite(Auc.Estimate),
        ["auc_ci"] = PrivacyStatistics.Interval(Auc),
        ["level"] = Gap.Level,
        ["train_examples"] = TrainLosses.Count,
        ["heldout_examples"] = HeldOutLosses.Count,
        ["train_losses"] = new JsonArray(TrainLosses.Select(l => (JsonNode)l).ToArray()),
        ["heldout_losses"] = new JsonArray(HeldOutLosses.Select(l => (JsonNode)l).ToArray()),
    };

    /// <inheritdoc/>
    public string ToJson() => ToJsonObject().ToJsonString(PrivacyStatistics.Indented);

    /// <summary>The two loss distributions, and the ROC curve of the loss as a membership classifier.</summary>
    public IReadOnlyList<GenericChart> Charts()
    {
        var histogram = Chart([
            Trace("histogram", ("x", TrainLosses.ToArray()), ("name", "training examples"), ("opacity", 0.6), ("histnorm", "probability")),
            Trace("histogram", ("x", HeldOutLosses.ToArray()), ("name", "held-out examples"), ("opacity", 0.6), ("histnorm", "probability")),
        ], $"Loss per token: gap {Gap}", "loss per token (nats)", "share of examples", ("barmode", "overlay"));
        var (fpr, tpr) = Roc();
        var roc = Chart([
            Trace("scatter", ("x", fpr), ("y", tpr), ("mode", "lines"), ("name", $"loss threshold (AUC {PrivacyStatistics.Format(Auc.Estimate)})")),
            Trace("scatter", ("x", new[] { 0.0, 1.0 }), ("y", new[] { 0.0, 1.0 }), ("mode", "lines"), ("name", "chance"),
                ("line", Obj(("dash", "dash"), ("color", "gray")))),
        ], "Membership inference by loss threshold", "held-out examples called members", "training examples called members");
        return [histogram, roc];
    }

    /// <summary>ROC points of the rule "loss ≤ threshold means member", over every distinct loss.</summary>
    private (double[] Fpr, double[] Tpr) Roc()
    {
        var thresholds = TrainLosses.Concat(HeldOutLosses).Distinct().Order().ToArray();
        var fpr = new List<double> { 0 };
        var tpr = new List<double> { 0 };
        foreach (var t in thresholds)
        {
            fpr.Add((double)HeldOutLosses.Count(l => l <= t) / HeldOutLosses.Count);
            tpr.Add((double)TrainLosses.Count(l => l <= t) / TrainLosses.Count);
        }
        return (fpr.ToArray(), tpr.ToArray());
    }

    /// <inheritdoc/>
    public string ToHtml()
    {
        var page = new HtmlPage("Membership-inference signal");
        page.Paragraph("Loss per token of each training example against held-out examples of the same kind. A positive gap whose interval " +
                       "excludes 0, and an AUC above 0.5, mean the model treats its training examples differently: a sign of memorisation " +
                       "an attacker could use to tell whether an example was trained on.");
        page.Table(["", "value", $"{Gap.Level:P0} interval"],
        [
            ["mean loss, training examples", PrivacyStatistics.Format(TrainLosses.Average()), ""],
            ["mean loss, held-out examples", PrivacyStatistics.Format(HeldOutLosses.Average()), ""],
            ["gap (held-out − training)", PrivacyStatistics.Format(Gap.Estimate), $"[{PrivacyStatistics.Format(Gap.Lower)}, {PrivacyStatistics.Format(Gap.Upper)}]"],
            ["AUC of the loss as membership classifier", PrivacyStatistics.Format(Auc.Estimate), $"[{PrivacyStatistics.Format(Auc.Lower)}, {PrivacyStatistics.Format(Auc.Upper)}]"],
        ]);
        foreach (var chart in Charts()) page.Chart(chart);
        return page.ToHtml();
    }

    /// <inheritdoc/>
    public void Save(string directory) => ReportFolder.Write(this, directory);
}
