using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Plots;
using Plotly.NET;
using Plotly.NET.CSharp;
using PChart = Plotly.NET.CSharp.Chart;

namespace FineTune.Kit.Preferences;

/// <summary>
/// What happened at one optimizer step of a preference or RL run: the loss, learning rate and gradient norm, plus the
/// objective's own figures under the names TRL logs them (e.g. "rewards/chosen", "rewards/margins", "kl").
/// </summary>
public sealed record PreferenceStep
{
    /// <summary>1-based optimizer step.</summary>
    public required int Step { get; init; }
    /// <summary>Mean loss over the step's pairs or completions.</summary>
    public required double Loss { get; init; }
    /// <summary>Learning rate used.</summary>
    public required double Lr { get; init; }
    /// <summary>Global gradient norm before clipping.</summary>
    public required double GradNorm { get; init; }
    /// <summary>The objective's figures by name.</summary>
    public required IReadOnlyDictionary<string, double> Values { get; init; }

    /// <summary>A figure by name (NaN when this objective does not log it).</summary>
    public double this[string name] => Values.TryGetValue(name, out var v) ? v : double.NaN;

    /// <summary>The step as one flat JSON object.</summary>
    public JsonObject ToJsonObject()
    {
        var o = new JsonObject { ["step"] = Step, ["loss"] = Finite(Loss), ["lr"] = Lr, ["grad_norm"] = Finite(GradNorm) };
        foreach (var (k, v) in Values) o[k] = Finite(v);
        return o;
    }

    private static JsonNode? Finite(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;
}

/// <summary>The per-step figures of a preference or RL run, as data, JSON (history.json) and charts.</summary>
public sealed class PreferenceHistory : IReport
{
    private readonly List<PreferenceStep> _steps = [];

    /// <summary>Every step so far.</summary>
    public IReadOnlyList<PreferenceStep> Steps => _steps;

    internal void Add(PreferenceStep step) => _steps.Add(step);

    internal void Restore(IEnumerable<PreferenceStep> steps) { _steps.Clear(); _steps.AddRange(steps); }

    /// <summary>The history as a JSON array of flat objects.</summary>
    public string ToJson() => ToJsonArray().ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    internal JsonArray ToJsonArray() => new(_steps.Select(s => (JsonNode)s.ToJsonObject()).ToArray());

    /// <summary>
    /// Reads a history written by <see cref="ToJson"/> (e.g. history.json of <c>ftk train --objective dpo</c>): "step",
    /// "loss", "lr" and "grad_norm" of each object are the step's own fields, every other key one of its figures; a
    /// null (a figure that was not a finite number) reads as NaN.
    /// </summary>
    public static PreferenceHistory FromJson(string json, string source = "preference history")
    {
        JsonArray array;
        try { array = JsonNode.Parse(json)?.AsArray() ?? throw new DataFormatException($"{source}: empty history."); }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new DataFormatException($"{source}: expected a JSON array of step objects: {e.Message}", e);
        }
        var history = new PreferenceHistory();
        for (int i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonObject o || o["step"] is null)
                throw new DataFormatException($"{source}: entry {i + 1} is not a step object with a \"step\".");
            double Number(JsonNode? n) => n is null ? double.NaN : n.GetValue<double>();
            string[] own = ["step", "loss", "lr", "grad_norm"];
            history.Add(new PreferenceStep
            {
                Step = o["step"]!.GetValue<int>(), Loss = Number(o["loss"]), Lr = Number(o["lr"]), GradNorm = Number(o["grad_norm"]),
                Values = o.Where(kv => !own.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => Number(kv.Value)),
            });
        }
        return history;
    }

    /// <summary>One figure against steps.</summary>
    public GenericChart Chart(string name = "loss")
    {
        var y = _steps.Select(s => name == "loss" ? s.Loss : s[name]).ToArray();
        return PChart.Line<int, double, string>(x: _steps.Select(s => s.Step), y: y, Name: name).WithTitle(name)
            .WithXAxisStyle<double, double, string>(TitleText: "step");
    }

    /// <summary>
    /// The loss, then the objective's own charts, then every other logged figure one chart each. DPO: the implicit
    /// rewards of chosen and rejected replies with their margin, and the share of pairs ordered rightly. Reward model:
    /// the scores of chosen and rejected replies with their margin, and the pairwise accuracy. GRPO: the mean reward
    /// with a band of ± one standard deviation over the step's completions and the best-of-n baseline beside it, and
    /// the KL to the reference.
    /// </summary>
    public IReadOnlyList<GenericChart> Charts()
    {
        var logged = _steps.FirstOrDefault()?.Values.Keys.ToList() ?? [];
        var shown = new HashSet<string>();
        var charts = new List<GenericChart> { Chart() };
        void Add(string title, string yTitle, (string Name, object? Value)[] layout, params string[] names)
        {
            var present = names.Where(logged.Contains).ToArray();
            if (present.Length == 0) return;
            shown.UnionWith(present);
            charts.Add(PlotlyTraces.Chart(present.Select(n => Line(n, Series(n))), title, "step", yTitle, layout));
        }
        (string, object?)[] share = [("yaxis", PlotlyTraces.Obj(("title", PlotlyTraces.Title("share of pairs")), ("range", new[] { 0.0, 1.0 })))];
        if (logged.Contains("rewards/margins"))
        {
            Add("DPO: implicit rewards β·(log π − log π_ref) of chosen and rejected replies, and their margin", "implicit reward", [], "rewards/chosen", "rewards/rejected", "rewards/margins");
            Add("DPO: share of pairs whose chosen reply has the higher implicit reward", "share of pairs", share, "rewards/accuracies");
        }
        if (logged.Contains("margin"))
        {
            Add("Reward model: scores of chosen and rejected replies, and their margin", "score", [], "rewards/chosen", "rewards/rejected", "margin");
            Add("Reward model: share of pairs whose chosen reply scores higher", "share of pairs", share, "accuracy");
        }
        if (logged.Contains("reward"))
        {
            charts.Add(RewardChart());
            shown.UnionWith(["reward", "reward_std", "best_of_n_reward"]);
            Add("KL to the reference: mean per completion token (k3 estimate)", "KL", [], "kl");
        }
        charts.AddRange(logged.Where(n => !shown.Contains(n)).Select(Chart));
        return charts;
    }

    /// <summary>GRPO's mean reward per step with a band of ± one standard deviation, and the best-of-n baseline.</summary>
    private GenericChart RewardChart()
    {
        var mean = Series("reward");
        var std = Series("reward_std");
        var traces = new List<Trace>();
        if (std.Any(v => v is not null))
        {
            traces.Add(Line("reward + std", mean.Zip(std, (m, s) => m + s).ToArray(), ("line", PlotlyTraces.Obj(("width", 0))), ("showlegend", false)));
            traces.Add(Line("± 1 std", mean.Zip(std, (m, s) => m - s).ToArray(), ("line", PlotlyTraces.Obj(("width", 0))),
                ("fill", "tonexty"), ("fillcolor", "rgba(31, 119, 180, 0.2)")));
        }
        traces.Add(Line("mean reward", mean, ("line", PlotlyTraces.Obj(("color", "rgb(31, 119, 180)")))));
        if (_steps.Any(s => s.Values.ContainsKey("best_of_n_reward")))
            traces.Add(Line("best of n (reranking the same samples)", Series("best_of_n_reward"), ("line", PlotlyTraces.Obj(("dash", "dash")))));
        return PlotlyTraces.Chart(traces, "Reward of the sampled completions: mean ± one standard deviation, and the best of each group", "step", "reward");
    }

    /// <summary>A figure per step, null where it is missing or not a finite number (a gap in the line).</summary>
    private double?[] Series(string name) =>
        _steps.Select(s => s[name] is var v && double.IsFinite(v) ? v : (double?)null).ToArray();

    private Trace Line(string name, double?[] y, params (string Name, object? Value)[] more) =>
        PlotlyTraces.Trace("scatter", [("mode", "lines"), ("name", name), ("x", _steps.Select(s => s.Step).ToArray()), ("y", y), .. more]);

    /// <summary>An HTML page with the charts (plotly.js embedded).</summary>
    public string ToHtml() => Charts().Aggregate(new HtmlPage("Preference training history"), (p, c) => p.Chart(c)).ToHtml();

    /// <summary>Writes report.html and report.json into <paramref name="directory"/> (see <see cref="ReportFolder"/>).</summary>
    public void Save(string directory) => ReportFolder.Write(this, directory);
}
