using System.Text.Json.Nodes;
using FineTune.Kit.Evaluation;
using FineTune.Kit.Models;
using FineTune.Kit.Plots;
using Plotly.NET;
using static FineTune.Kit.Plots.PlotlyTraces;

namespace FineTune.Kit.Audit;

/// <summary>
/// Exposure of planted canaries ("secret sharer"): each canary's secret is scored by the model's log-perplexity after
/// its prefix, −Σ log2 p(token | prefix, earlier tokens), beside <see cref="CandidateCount"/> random secrets of the
/// same format; with rank = 1 + the number of candidates the model finds strictly more likely (ties count in the
/// canary's favour, so exposure is never under-stated),
/// <c>exposure = log2(|candidates|) − log2(rank)</c>, where |candidates| counts the canary too. A secret the model never saw ranks
/// uniformly: its exposure is about log2(e) ≈ 1.44 bits on average. A memorised one ranks first: exposure reaches its
/// maximum, log2(|candidates|). The candidates are a sample of the format's space, so exposure is measured up to
/// that maximum, not extrapolated to the whole space.
/// </summary>
public sealed class CanaryExposure
{
    private readonly CausalLM _model;
    private int _candidates = 1023, _seed = Seeds.Default, _batch = 256;

    private CanaryExposure(CausalLM model) => _model = model;

    /// <summary>Measures canaries in <paramref name="model"/>; it needs a tokenizer.</summary>
    public static CanaryExposure For(CausalLM model)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.RequireTokenizer();
        return new CanaryExposure(model);
    }

    /// <summary>Random secrets each canary is ranked among (default 1,023, so at most 10 bits of exposure).</summary>
    public int CandidateCount => _candidates;

    /// <summary>Random secrets to rank each canary among (at least 1).</summary>
    public CanaryExposure Candidates(int count)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "Candidates must be at least 1.");
        _candidates = count;
        return this;
    }

    /// <summary>Seed of the candidate sample.</summary>
    public CanaryExposure Seed(int seed) { _seed = seed; return this; }

    /// <summary>Secrets scored in one batch (at least 1).</summary>
    public CanaryExposure BatchSize(int secrets)
    {
        if (secrets < 1) throw new ArgumentOutOfRangeException(nameof(secrets), secrets, "BatchSize must be at least 1.");
        _batch = secrets;
        return this;
    }

    /// <summary>Measures the inserted canaries and the controls of a set.</summary>
    public CanaryReport Measure(CanarySet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        var space = set.Format.Log2SpaceSize;
        if (Math.Log2(_candidates + set.Inserted.Count + set.Controls.Count) > space - 1)
            throw new ArgumentException($"{_candidates} candidates would fill half the {Math.Pow(2, space):N0} possible secrets of the format; use fewer Candidates or longer secrets");
        // one candidate sample for every canary, none of them a canary of the set
        var taken = set.Inserted.Concat(set.Controls).Select(c => c.Secret).ToHashSet(StringComparer.Ordinal);
        var rng = new Random(_seed);
        var candidates = new List<Canary>();
        while (candidates.Count < _candidates)
            if (set.Format.Random(rng) is var c && taken.Add(c.Secret)) candidates.Add(c);
        var candidateBits = Score(set.Format.Prefix, candidates.Select(c => c.Secret).ToList());
        var canaryBits = Score(set.Format.Prefix, set.Inserted.Concat(set.Controls).Select(c => c.Secret).ToList());
        var results = new List<CanaryResult>();
        for (var i = 0; i < canaryBits.Length; i++)
        {
            var canary = i < set.Inserted.Count ? set.Inserted[i] : set.Controls[i - set.Inserted.Count];
            var rank = RankAmong(canaryBits[i], candidateBits);
            results.Add(new CanaryResult(canary, i < set.Inserted.Count, canaryBits[i], rank, Exposure(rank, _candidates + 1)));
        }
        return new CanaryReport(set, results, candidateBits, _candidates + 1);
    }

    /// <summary>1 + the number of <paramref name="candidates"/> with a strictly lower log-perplexity than the canary's.</summary>
    public static int RankAmong(double canaryBits, IReadOnlyList<double> candidates) => 1 + candidates.Count(b => b < canaryBits);

    /// <summary>log2(<paramref name="candidates"/>) − log2(<paramref name="rank"/>), where the count includes the canary.</summary>
    public static double Exposure(int rank, int candidates)
    {
        if (candidates < 1 || rank < 1 || rank > candidates)
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"rank must be in [1, {candidates}]");
        return Math.Log2(candidates) - Math.Log2(rank);
    }

    /// <summary>Log-perplexity in bits of each secret after the prefix (the secret encoded with its leading space).</summary>
    private double[] Score(string prefix, IReadOnlyList<string> secrets)
    {
        var tok = _model.RequireTokenizer();
        var prompt = tok.Encode(prefix).Select(t => (long)t).ToArray();
        var result = new List<double>(secrets.Count);
        foreach (var chunk in secrets.Chunk(_batch))
        {
            var ids = chunk.Select(s => tok.Encode(" " + s).Select(t => (long)t).ToArray()).ToList();
            result.AddRange(_model.ContinuationLogProbs(prompt, ids).Select(lnP => -lnP / Math.Log(2)));
        }
        return result.ToArray();
    }
}

/// <summary>One canary's score: its log-perplexity in bits, its rank among the candidates and its exposure.</summary>
public sealed record CanaryResult(Canary Canary, bool Inserted, double LogPerplexityBits, int Rank, double Exposure);

/// <summary>Exposure of every canary, inserted and control, with the summary the audit reports.</summary>
public sealed class CanaryReport : IReport
{
    private readonly double[] _candidateBits;

    internal CanaryReport(CanarySet set, IReadOnlyList<CanaryResult> results, double[] candidateBits, int candidates)
    {
        Set = set;
        Results = results;
        _candidateBits = candidateBits;
        Candidates = candidates;
    }

    /// <summary>The canaries measured.</summary>
    public CanarySet Set { get; }
    /// <summary>Each canary, inserted ones first.</summary>
    public IReadOnlyList<CanaryResult> Results { get; }
    /// <summary>Secrets each canary was ranked among, itself included.</summary>
    public int Candidates { get; }
    /// <summary>The highest exposure the sample can show: log2(<see cref="Candidates"/>).</summary>
    public double MaxExposure => Math.Log2(Candidates);
    /// <summary>Mean exposure of the inserted canaries.</summary>
    public double MeanInsertedExposure => Results.Where(r => r.Inserted).Select(r => r.Exposure).DefaultIfEmpty(double.NaN).Average();
    /// <summary>Mean exposure of the controls (NaN without controls).</summary>
    public double MeanControlExposure => Results.Where(r => !r.Inserted).Select(r => r.Exposure).DefaultIfEmpty(double.NaN).Average();

    /// <summary>
    /// The numbers as a JSON object (the "canaries" part of an audit report):
    /// <c>{"candidates", "max_exposure", "mean_inserted_exposure", "mean_control_exposure", "canaries": [...]}</c>.
    /// Secrets are not written: a report may travel further than the canary file.
    /// </summary>
    public JsonObject ToJsonObject() => new()
    {
        ["candidates"] = Candidates,
        ["max_exposure"] = MaxExposure,
        ["log2_space"] = Set.Format.Log2SpaceSize,
        ["mean_inserted_exposure"] = PrivacyStatistics.Finite(MeanInsertedExposure),
        ["mean_control_exposure"] = PrivacyStatistics.Finite(MeanControlExposure),
        ["repeats"] = Set.Repeats,
        ["canaries"] = new JsonArray(Results.Select((r, i) => (JsonNode)new JsonObject
        {
            ["index"] = i, ["inserted"] = r.Inserted, ["log_perplexity_bits"] = PrivacyStatistics.Finite(r.LogPerplexityBits),
            ["rank"] = r.Rank, ["exposure"] = r.Exposure,
        }).ToArray()),
    };

    /// <inheritdoc/>
    public string ToJson() => ToJsonObject().ToJsonString(PrivacyStatistics.Indented);

    /// <summary>Exposure per canary against the maximum, and where the canaries fall among the candidates.</summary>
    public IReadOnlyList<GenericChart> Charts()
    {
        string Name(int i) => $"{(Results[i].Inserted ? "inserted" : "control")} {i}";
        var names = Results.Select((_, i) => Name(i)).ToArray();
        var exposure = Chart([
            Trace("bar", ("x", names), ("y", Results.Select(r => r.Exposure).ToArray()), ("name", "exposure"),
                ("marker", Obj(("color", Results.Select(r => r.Inserted ? "crimson" : "steelblue").ToArray())))),
            Trace("scatter", ("x", names), ("y", names.Select(_ => MaxExposure).ToArray()), ("mode", "lines"), ("name", "maximum (rank 1)"),
                ("line", Obj(("dash", "dash"), ("color", "gray")))),
        ], "Canary exposure (bits)", null, "exposure = log2(candidates) − log2(rank)");
        var spread = Chart([
            Trace("histogram", ("x", _candidateBits), ("name", "random candidates"), ("opacity", 0.6)),
            Trace("scatter", ("x", Results.Select(r => r.LogPerplexityBits).ToArray()), ("y", Results.Select(_ => 0.0).ToArray()),
                ("mode", "markers"), ("name", "canaries"), ("text", names),
                ("marker", Obj(("size", 12), ("symbol", "diamond"), ("color", Results.Select(r => r.Inserted ? "crimson" : "steelblue").ToArray())))),
        ], "Log-perplexity of the canaries among the candidates", "log-perplexity (bits)", "candidates");
        return [exposure, spread];
    }

    /// <inheritdoc/>
    public string ToHtml()
    {
        var page = new HtmlPage("Canary exposure");
        page.Paragraph($"{Set}. Each canary is ranked by log-perplexity among {Candidates - 1:N0} random secrets of the same format; " +
                       $"exposure = log2({Candidates:N0}) − log2(rank), at most {PrivacyStatistics.Format(MaxExposure)} bits. " +
                       "A secret the model never saw scores about 1.44 bits on average.");
        page.Table(["", "mean exposure (bits)", "canaries"],
        [
            ["inserted", PrivacyStatistics.Format(MeanInsertedExposure), Set.Inserted.Count.ToString()],
            ["controls (never in the data)", PrivacyStatistics.Format(MeanControlExposure), Set.Controls.Count.ToString()],
        ]);
        page.Table(["canary", "inserted", "log-perplexity (bits)", "rank", "exposure (bits)"],
            Results.Select((r, i) => (IReadOnlyList<string>)[i.ToString(), r.Inserted ? "yes" : "no", PrivacyStatistics.Format(r.LogPerplexityBits),
                r.Rank.ToString(), PrivacyStatistics.Format(r.Exposure)]));
        foreach (var chart in Charts()) page.Chart(chart);
        return page.ToHtml();
    }

    /// <inheritdoc/>
    public void Save(string directory) => ReportFolder.Write(this, directory);
}
