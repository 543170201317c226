using System.Globalization;
using System.Text.RegularExpressions;
using FineTune.Kit.Data;

namespace FineTune.Kit.Monitoring;

/// <summary>An alert: which check fired, the value against its threshold, and the evidence in words.</summary>
public sealed record DriftAlert(string Check, double Value, double Threshold, string Evidence);

/// <summary>The thresholds of <see cref="DriftMonitor"/>; defaults follow common practice.</summary>
public sealed record DriftThresholds
{
    /// <summary>PSI above this is a major shift.</summary>
    public double Psi { get; init; } = 0.25;
    /// <summary>KS (and MMD) p-values below this flag a difference.</summary>
    public double PValue { get; init; } = 0.01;
    /// <summary>The unknown-word rate may exceed the reference's own rate by this much (absolute).</summary>
    public double UnknownRateIncrease { get; init; } = 0.05;
    /// <summary>Mean classifier confidence may fall by this much against earlier traffic.</summary>
    public double ConfidenceDrop { get; init; } = 0.10;
    /// <summary>Share of failed requests (status 400 and above) allowed.</summary>
    public double ErrorRate { get; init; } = 0.05;
    /// <summary>Fewer recent inputs than this are not tested (the statistics would be noise).</summary>
    public int MinSamples { get; init; } = 20;
}

/// <summary>
/// Compares recent traffic from the request log with the training data (the reference) and with earlier traffic:
/// input length (PSI and KS), the rate of words the reference never used, the label mix and mean confidence of the
/// classifier, a TF-IDF MMD two-sample test with a permutation p-value (and, given a model, the same test on its
/// mean-pooled hidden states), latency percentiles and the error rate.
/// </summary>
public static partial class DriftMonitor
{
    /// <summary>
    /// Reads a reference data set: a JSONL file with text (and optionally label), a chat JSONL file (its user messages),
    /// or a folder's train.jsonl.
    /// </summary>
    public static IReadOnlyList<TextRow> ReadReference(string path)
    {
        if (Directory.Exists(path))
        {
            var train = Path.Combine(path, "train.jsonl");
            if (!File.Exists(train)) throw new FileNotFoundException($"--reference: the folder {path} has no train.jsonl");
            path = train;
        }
        else if (!File.Exists(path)) throw new FileNotFoundException($"--reference: {path} is neither a JSONL file nor a folder");
        var dataset = Dataset.FromJsonl(path);
        // a chat fine-tuning set: what the customers wrote is what traffic is compared with
        var rows = !dataset.ColumnNames.Contains("text") && dataset.ColumnNames.Contains("messages")
            ? dataset.AsChat().SelectMany(c => c.Messages.Where(m => m.Role == "user").Select(m => new TextRow(m.Content, null, c.Line))).ToList()
            : dataset.AsText();
        if (rows.Count < 2) throw new InvalidDataException($"{path}: the reference needs at least two rows, it has {rows.Count}");
        return rows;
    }

    /// <summary>
    /// The rows of the window: "" for all, N for the last N rows, or a duration (30m, 1h, 2d) back from the newest row.
    /// </summary>
    public static (IReadOnlyList<RequestRecord> Earlier, IReadOnlyList<RequestRecord> Recent) Split(IReadOnlyList<RequestRecord> log, string? window)
    {
        if (string.IsNullOrEmpty(window) || log.Count == 0) return ([], log);
        if (int.TryParse(window, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            if (n < 1) throw new ArgumentException($"--window: expected a positive number of requests or a duration such as 1h, got '{window}'");
            var cut = Math.Max(0, log.Count - n);
            return (log.Take(cut).ToList(), log.Skip(cut).ToList());
        }
        var m = DurationPattern().Match(window);
        if (!m.Success) throw new ArgumentException($"--window: expected a number of requests (500) or a duration (30m, 1h, 2d), got '{window}'");
        var amount = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var span = m.Groups[2].Value switch
        {
            "s" => TimeSpan.FromSeconds(amount), "m" => TimeSpan.FromMinutes(amount), "h" => TimeSpan.FromHours(amount), _ => TimeSpan.FromDays(amount),
        };
        var from = log.Max(r => r.Time) - span;
        return (log.Where(r => r.Time < from).ToList(), log.Where(r => r.Time >= from).ToList());
    }

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(s|m|h|d)$")]
    private static partial Regex DurationPattern();

    /// <summary>Runs every check on the window of the log against the reference.</summary>
    /// <param name="log">The request log, oldest first.</param>
    /// <param name="reference">The training data.</param>
    /// <param name="window">Recent traffic (see <see cref="Split"/>).</param>
    /// <param name="thresholds">Alert thresholds; null for the defaults.</param>
    /// <param name="seed">Seed of the sampling and permutations.</param>
    /// <param name="embed">
    /// Texts to vectors, e.g. a model's mean-pooled last hidden states (<c>model.Embed</c>); when given, an MMD test on
    /// those vectors runs beside the TF-IDF one (the same texts on both sides).
    /// </param>
    public static MonitorReport Run(IReadOnlyList<RequestRecord> log, IReadOnlyList<TextRow> reference, string? window = null,
        DriftThresholds? thresholds = null, int seed = Seeds.Default, Func<IReadOnlyList<string>, float[][]>? embed = null)
    {
        var t = thresholds ?? new DriftThresholds();
        var (earlier, recent) = Split(log, window);
        var metrics = new SortedDictionary<string, double?>(StringComparer.Ordinal);
        var alerts = new List<DriftAlert>();
        var notes = new List<string>();
        metrics["requests"] = log.Count;
        metrics["recent_requests"] = recent.Count;
        metrics["earlier_requests"] = earlier.Count;

        // service health: errors and latency
        var errors = recent.Count(r => r.Status >= 400);
        var errorRate = recent.Count == 0 ? 0 : (double)errors / recent.Count;
        metrics["error_rate"] = errorRate;
        if (errorRate > t.ErrorRate)
            alerts.Add(new("error_rate", errorRate, t.ErrorRate, $"{errors} of {recent.Count} recent requests failed"));
        var latencies = recent.Where(r => r.Status < 400).Select(r => r.LatencyMs).ToList();
        foreach (var (name, q) in new[] { ("p50", 0.5), ("p95", 0.95), ("p99", 0.99) })
            metrics[$"latency_{name}_ms"] = latencies.Count == 0 ? null : DriftStatistics.Quantile(latencies, q);

        // inputs: the successful requests that carried text
        static bool Input(RequestRecord r) => r.Status < 400 && r.InputChars > 0;
        var inputs = recent.Where(Input).ToList();
        var before = earlier.Where(Input).ToList();
        var refWords = reference.Select(r => (double)RequestLog.CountWords(r.Text)).ToList();
        var refChars = reference.Select(r => (double)r.Text.Length).ToList();
        if (inputs.Count < t.MinSamples)
            notes.Add($"only {inputs.Count} recent inputs (fewer than {t.MinSamples}): drift statistics are not computed");
        else
        {
            LengthChecks("input_words", refWords, inputs.Select(r => (double)r.InputWords).ToList(), "the reference", metrics, alerts, t);
            LengthChecks("input_chars", refChars, inputs.Select(r => (double)r.InputChars).ToList(), "the reference", metrics, alerts, t);
            if (before.Count >= t.MinSamples)
                LengthChecks("input_words_vs_earlier", before.Select(r => (double)r.InputWords).ToList(),
                    inputs.Select(r => (double)r.InputWords).ToList(), "earlier traffic", metrics, alerts, t);

            var texts = inputs.Where(r => r.Text is not null).Select(r => r.Text!).ToList();
            if (texts.Count < t.MinSamples) notes.Add("the log keeps no text (--log-text none): word and MMD checks are skipped");
            else
            {
                UnknownWords(reference, texts, metrics, alerts, t);
                var random = new Random(seed);
                var refSample = Sample(reference.Select(r => r.Text).ToList(), 300, random);
                var recentSample = Sample(texts, 300, random);
                var mmd = DriftStatistics.Mmd(refSample, recentSample, seed: seed);
                metrics["tfidf_mmd2"] = mmd.Statistic;
                metrics["tfidf_mmd_p"] = mmd.PValue;
                if (mmd.PValue < t.PValue)
                    alerts.Add(new("tfidf_mmd", mmd.PValue, t.PValue,
                        $"TF-IDF MMD² {mmd.Statistic:0.0000} between {recentSample.Count} recent inputs and {refSample.Count} reference texts; permutation p = {mmd.PValue:0.0000}"));
                if (embed is not null)
                {
                    var hidden = DriftStatistics.Mmd(embed(refSample), embed(recentSample), seed: seed);
                    metrics["embedding_mmd2"] = hidden.Statistic;
                    metrics["embedding_mmd_p"] = hidden.PValue;
                    if (hidden.PValue < t.PValue)
                        alerts.Add(new("embedding_mmd", hidden.PValue, t.PValue,
                            $"embedding MMD² {hidden.Statistic:0.0000} between {recentSample.Count} recent inputs and {refSample.Count} reference texts; permutation p = {hidden.PValue:0.0000}"));
                }
            }
        }

        // the classifier: label mix and confidence
        var labelled = recent.Where(r => r.Status < 400 && r.Label is not null).ToList();
        var refLabels = reference.Where(r => r.Label is not null).Select(r => r.Label!).ToList();
        if (labelled.Count >= t.MinSamples && refLabels.Count > 0)
        {
            var psi = DriftStatistics.Psi(refLabels, labelled.Select(r => r.Label!).ToList());
            metrics["label_psi"] = psi;
            var categories = refLabels.Concat(labelled.Select(r => r.Label!)).Distinct().Count();
            var threshold = PsiThreshold(t, categories, refLabels.Count, labelled.Count);
            if (psi > threshold)
                alerts.Add(new("label_mix", psi, threshold, $"label PSI {psi:0.000} between {labelled.Count} recent predictions and the reference labels"));
        }
        if (labelled.Count > 0) metrics["mean_confidence"] = labelled.Average(r => r.Probability ?? 0);
        var labelledBefore = earlier.Where(r => r.Status < 400 && r.Label is not null).ToList();
        if (labelledBefore.Count > 0) metrics["mean_confidence_earlier"] = labelledBefore.Average(r => r.Probability ?? 0);
        if (labelled.Count >= t.MinSamples && labelledBefore.Count >= t.MinSamples)
        {
            var drop = metrics["mean_confidence_earlier"]!.Value - metrics["mean_confidence"]!.Value;
            metrics["confidence_drop"] = drop;
            if (drop > t.ConfidenceDrop)
                alerts.Add(new("confidence_drop", drop, t.ConfidenceDrop,
                    $"mean confidence fell from {metrics["mean_confidence_earlier"]:0.000} to {metrics["mean_confidence"]:0.000}"));
        }

        return new MonitorReport(alerts, metrics, notes, earlier, recent, refWords, refLabels);
    }

    /// <summary>
    /// The PSI threshold for samples of n and m values over k bins. Sampling noise alone makes PSI about
    /// (k − 1)·(1/n + 1/m) (it is close to a χ² statistic with k − 1 degrees of freedom scaled by 1/n + 1/m), so the
    /// threshold adds that much: without it, 100 requests against 100 would raise alerts on noise.
    /// </summary>
    public static double PsiThreshold(DriftThresholds t, int bins, int n, int m) => t.Psi + (bins - 1) * (1.0 / n + 1.0 / m);

    private static void LengthChecks(string name, List<double> reference, List<double> recent, string against,
        IDictionary<string, double?> metrics, List<DriftAlert> alerts, DriftThresholds t)
    {
        var psi = DriftStatistics.Psi(reference, recent);
        var ks = DriftStatistics.KolmogorovSmirnov(reference, recent);
        metrics[name + "_psi"] = psi;
        metrics[name + "_ks_d"] = ks.Statistic;
        metrics[name + "_ks_p"] = ks.PValue;
        var threshold = PsiThreshold(t, 10, reference.Count, recent.Count);
        if (psi > threshold)
            alerts.Add(new(name + "_psi", psi, threshold, $"PSI {psi:0.000} of {name.Replace('_', ' ')} against {against} (mean {reference.Average():0.0} → {recent.Average():0.0})"));
        if (ks.PValue < t.PValue)
            alerts.Add(new(name + "_ks", ks.PValue, t.PValue, $"KS D = {ks.Statistic:0.000} against {against}, p = {ks.PValue:0.0000} (n = {reference.Count} and {recent.Count})"));
    }

    /// <summary>
    /// The share of recent words the reference never used, against the reference's own rate (words of its odd rows
    /// missing from its even rows), which is what in-distribution text scores.
    /// </summary>
    private static void UnknownWords(IReadOnlyList<TextRow> reference, List<string> texts, IDictionary<string, double?> metrics,
        List<DriftAlert> alerts, DriftThresholds t)
    {
        static IEnumerable<string> Words(string text) => Text.TextNormalizer.Words(text);
        static double Rate(HashSet<string> vocabulary, IEnumerable<string> texts)
        {
            long total = 0, unknown = 0;
            foreach (var w in texts.SelectMany(Words)) { total++; if (!vocabulary.Contains(w)) unknown++; }
            return total == 0 ? 0 : (double)unknown / total;
        }
        var even = new HashSet<string>(reference.Where((_, i) => i % 2 == 0).SelectMany(r => Words(r.Text)), StringComparer.Ordinal);
        var baseline = Rate(even, reference.Where((_, i) => i % 2 == 1).Select(r => r.Text));
        var all = new HashSet<string>(reference.SelectMany(r => Words(r.Text)), StringComparer.Ordinal);
        var rate = Rate(all, texts);
        metrics["unknown_word_rate"] = rate;
        metrics["unknown_word_rate_reference"] = baseline;
        if (rate > baseline + t.UnknownRateIncrease)
            alerts.Add(new("unknown_words", rate, baseline + t.UnknownRateIncrease,
                $"{rate:P1} of recent words never occur in the reference (its own held-out rate: {baseline:P1})"));
    }

    private static List<string> Sample(List<string> items, int max, Random random)
    {
        if (items.Count <= max) return items;
        var copy = items.ToArray();
        random.Shuffle(copy);
        return copy.Take(max).ToList();
    }
}
