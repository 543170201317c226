using FineTune.Kit.Data;
using FineTune.Kit.Monitoring;
using FineTune.Kit.Sample;
using FineTune.Kit.Tests.Build;

namespace FineTune.Kit.Tests.Monitoring;

/// <summary>The monitor on the sample tickets: silent on an in-distribution replay, loud on a shifted half.</summary>
public class DriftMonitorTests
{
    private static IReadOnlyList<TextRow> Heldout() =>
        Dataset.FromJsonl(Path.Combine(RepoFiles.Root, "data", "sample", "support_tickets.heldout.jsonl")).AsText();

    private static RequestRecord Served(string text, string? label, double probability, DateTimeOffset time, double latency) => new()
    {
        Time = time, Endpoint = "/v1/classify", Model = "support", Adapter = "support", Status = 200, PromptTokens = 40,
        LatencyMs = latency, Label = label, Probability = probability, Text = RequestLog.Redact(text), InputChars = text.Length,
        InputWords = RequestLog.CountWords(text),
    };

    /// <summary>A new product line and a new kind of complaint: words the tickets never use, longer, one label.</summary>
    private static List<string> Shifted(int count, int seed)
    {
        var random = new Random(seed);
        string[] parts = ["SolarGrid inverter", "HeatPump Pro", "Battery Wall 10kWh", "EV charger"];
        string[] faults = ["reboots every night after the firmware update", "shows error E{0} and exports no power",
                           "trips the breaker whenever the heat pump starts", "reports a voltage of {0} volts on phase two"];
        return Enumerable.Range(0, count).Select(_ =>
            $"Our {parts[random.Next(parts.Length)]} {string.Format(faults[random.Next(faults.Length)], random.Next(100, 999))}. " +
            $"The installer visited twice, replaced the {parts[random.Next(parts.Length)]} module and the monitoring portal still " +
            $"flags a fault code {random.Next(1000, 9999)} with isolation resistance below threshold.").ToList();
    }

    [Fact]
    public void An_in_distribution_replay_raises_no_alert_and_a_shifted_half_does()
    {
        // in distribution: the held-out tickets in a seeded random order, half as the reference and half replayed
        var random = new Random(5);
        var tickets = Heldout().ToArray();
        random.Shuffle(tickets);
        var reference = tickets.Take(200).ToList();
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var replay = tickets.Skip(200).Select((t, i) => Served(t.Text, t.Label, 0.8 + 0.1 * random.NextDouble(), start.AddSeconds(i), 50 + random.Next(20))).ToList();

        var calm = DriftMonitor.Run(replay, reference, window: "100", seed: 1);
        Assert.True(calm.Alerts.Count == 0, string.Join("; ", calm.Alerts.Select(a => a.Evidence)));
        Assert.Equal(100.0, calm.Metrics["recent_requests"]!.Value);

        var shifted = replay.Take(100).Concat(Shifted(100, seed: 9).Select((text, i) =>
            Served(text, "technical_issue", 0.45 + 0.1 * random.NextDouble(), start.AddSeconds(200 + i), 50 + random.Next(20)))).ToList();
        var drift = DriftMonitor.Run(shifted, reference, window: "100", seed: 1);
        var checks = drift.Alerts.Select(a => a.Check).ToHashSet();
        foreach (var expected in new[] { "tfidf_mmd", "unknown_words", "label_mix", "confidence_drop", "input_words_psi", "input_words_ks" })
            Assert.Contains(expected, checks);
        Assert.All(drift.Alerts, a => Assert.False(string.IsNullOrWhiteSpace(a.Evidence)));

        // the window by time: the last 100 seconds are the shifted requests
        Assert.Equal(100, DriftMonitor.Split(shifted, "100s").Recent.Count(r => r.Label == "technical_issue" && r.Probability < 0.6));
    }

    /// <summary>The sample's drift scenario (ftk sample), generated once for the tests that use it.</summary>
    internal static readonly Lazy<string> Traffic = new(() =>
    {
        var dir = TempFolder.Fresh();
        SampleData.Generate(dir, SampleData.DefaultSeed, includeCorpus: false);
        return dir;
    });

    /// <summary>The training data of the scenario: the customer messages of the chat fine-tuning set.</summary>
    internal static IReadOnlyList<TextRow> TrainingMessages(string dir) => DriftMonitor.ReadReference(Path.Combine(dir, SampleData.ChatFile));

    [Fact]
    public void A_chat_file_as_reference_gives_its_user_messages()
    {
        var path = Path.Combine(Traffic.Value, SampleData.ChatFile);
        var rows = DriftMonitor.ReadReference(path);
        var lines = File.ReadAllLines(path);
        Assert.Equal(lines.Length, rows.Count);
        var second = System.Text.Json.Nodes.JsonNode.Parse(lines[1])!["messages"]!.AsArray().Single(m => (string?)m!["role"] == "user")!;
        Assert.Equal((string?)second["content"], rows[1].Text);
        Assert.Equal(2, rows[1].Line);
        Assert.All(rows, r => Assert.Null(r.Label));
    }

    [Fact]
    public void The_sample_traffic_is_quiet_in_distribution_and_flagged_after_the_shift()
    {
        // the classifier is simulated: confident on what it was trained for, unsure after the shift
        var random = new Random(5);
        RequestRecord Serve(TrafficRequest r) => r.Segment == TrafficRequest.InDistribution
            ? Served(r.Text, r.Label, 0.8 + 0.1 * random.NextDouble(), r.Time, 50 + random.Next(20))
            : Served(r.Text, "technical_issue", 0.45 + 0.1 * random.NextDouble(), r.Time, 50 + random.Next(20));
        var reference = TrainingMessages(Traffic.Value);

        var calm = DriftTraffic.Read(Path.Combine(Traffic.Value, DriftTraffic.InDistributionFile)).Select(Serve).ToList();
        var quiet = DriftMonitor.Run(calm, reference, window: "150", seed: 1);
        Assert.True(quiet.Alerts.Count == 0, string.Join("; ", quiet.Alerts.Select(a => a.Evidence)));
        Assert.Equal(150.0, quiet.Metrics["recent_requests"]!.Value);

        var traffic = DriftTraffic.Read(Path.Combine(Traffic.Value, DriftTraffic.DriftFile));
        var shifted = traffic.Select(Serve).ToList();
        var before = DriftMonitor.Run(shifted.Take(DriftTraffic.Requests / 2).ToList(), reference, window: "75", seed: 1);
        Assert.True(before.Alerts.Count == 0, string.Join("; ", before.Alerts.Select(a => a.Evidence)));
        var drift = DriftMonitor.Run(shifted, reference, window: "150", seed: 1);
        var checks = drift.Alerts.Select(a => a.Check).ToHashSet();
        foreach (var expected in new[] { "tfidf_mmd", "unknown_words", "confidence_drop", "input_words_psi", "input_words_ks", "input_words_vs_earlier_ks" })
            Assert.True(checks.Contains(expected), $"no {expected} alert; alerts: {string.Join(", ", checks)}");

        // the window by time: from the first shifted request on
        var shiftedFor = traffic[^1].Time - traffic[DriftTraffic.Requests / 2].Time;
        Assert.Equal(DriftTraffic.Requests / 2, DriftMonitor.Split(shifted, $"{shiftedFor.TotalSeconds:0}s").Recent.Count);
    }

    [Fact]
    public void The_models_hidden_states_drift_on_the_shifted_half_and_not_before()
    {
        using var model = FineTune.Kit.Models.CausalLM.Load(Path.Combine(RepoFiles.Root, "data", "sample", "base-model"),
            new FineTune.Kit.Models.LoadOptions { Device = "cpu" });
        var reference = TrainingMessages(Traffic.Value);
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        List<RequestRecord> Log(string file) => DriftTraffic.Read(Path.Combine(Traffic.Value, file))
            .Select((r, i) => Served(r.Text, null, 0, start.AddSeconds(i), 50)).ToList();
        var embedded = 0;
        float[][] Embed(IReadOnlyList<string> texts)
        {
            embedded += texts.Count;
            return model.Embed(texts);
        }

        var calm = DriftMonitor.Run(Log(DriftTraffic.InDistributionFile), reference, window: "150", seed: 1, embed: Embed);
        Assert.True(embedded > 0);
        Assert.True(calm.Metrics["embedding_mmd_p"] > 0.01, $"p = {calm.Metrics["embedding_mmd_p"]}");
        Assert.DoesNotContain(calm.Alerts, a => a.Check == "embedding_mmd");

        var drift = DriftMonitor.Run(Log(DriftTraffic.DriftFile), reference, window: "150", seed: 1, embed: Embed);
        var alert = Assert.Single(drift.Alerts, a => a.Check == "embedding_mmd");
        Assert.Contains("embedding MMD²", alert.Evidence);
        Assert.True(drift.Metrics["embedding_mmd2"] > 3 * calm.Metrics["embedding_mmd2"]);
        // without a model the test is not run
        Assert.False(DriftMonitor.Run(Log(DriftTraffic.DriftFile), reference, window: "150", seed: 1).Metrics.ContainsKey("embedding_mmd_p"));
    }

    [Fact]
    public void The_psi_threshold_grows_with_the_sampling_noise_of_small_samples()
    {
        // 10 bins, 100 against 200 values: 0.25 + 9·(1/100 + 1/200) = 0.385
        Assert.Equal(0.385, DriftMonitor.PsiThreshold(new DriftThresholds(), 10, 100, 200), 12);
    }

    [Fact]
    public void Errors_and_latency_are_reported()
    {
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var rows = Enumerable.Range(0, 100).Select(i => new RequestRecord
        {
            Time = start.AddSeconds(i), Endpoint = "/v1/chat/completions", Status = i % 10 == 0 ? 503 : 200, LatencyMs = i + 1,
        }).ToList();
        var report = DriftMonitor.Run(rows, Heldout().Take(50).ToList());
        Assert.Equal(0.1, report.Metrics["error_rate"]!.Value, 12);
        Assert.Contains(report.Alerts, a => a.Check == "error_rate");
        // the 90 successful latencies are 2..100 without 11, 21, ..., 91: their median lies between the 45th and 46th
        var ok = rows.Where(r => r.Status == 200).Select(r => r.LatencyMs).Order().ToArray();
        Assert.Equal((ok[44] + ok[45]) / 2, report.Metrics["latency_p50_ms"]!.Value, 9);
        Assert.Contains("drift statistics are not computed", string.Join(" ", report.Notes));
    }

    [Fact]
    public void Report_writes_json_and_html()
    {
        var tickets = Heldout();
        var start = DateTimeOffset.UtcNow;
        var rows = tickets.Skip(200).Select((t, i) => Served(t.Text, t.Label, 0.9, start.AddSeconds(i), 40)).ToList();
        var report = DriftMonitor.Run(rows, tickets.Take(200).ToList());
        var dir = Path.Combine(Path.GetTempPath(), "ftk-monitor-" + Guid.NewGuid().ToString("N"));
        try
        {
            report.Save(dir);
            var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "report.json")))!;
            Assert.NotNull(json["alerts"]!.AsArray());
            Assert.Equal(200.0, (double)json["metrics"]!["recent_requests"]!);
            var html = File.ReadAllText(Path.Combine(dir, "report.html"));
            Assert.Contains("Label mix", html);
            Assert.Contains("Latency over time", html);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1w")]
    [InlineData("soon")]
    public void Bad_windows_are_refused(string window)
    {
        var e = Assert.Throws<ArgumentException>(() => DriftMonitor.Split([new RequestRecord()], window));
        Assert.Contains("--window", e.Message);
    }
}
