using FineTune.Kit.Monitoring;
using FineTune.Kit.Sample;
using FineTune.Kit.Server;
using FineTune.Kit.Tests.Server;

namespace FineTune.Kit.Tests.Monitoring;

/// <summary>
/// The drift scenario end to end: the sample's traffic files replayed against the server with a request log, then the
/// monitor reading that log. The in-distribution replay stays quiet; the drift file's shifted half raises alerts.
/// </summary>
public class ReplayMonitorTests
{
    [Fact]
    public async Task Replayed_sample_traffic_is_flagged_only_after_the_shift()
    {
        var traffic = DriftMonitorTests.Traffic.Value;
        var reference = DriftMonitorTests.TrainingMessages(traffic);
        using var tmp = new TempFolder();

        async Task<IReadOnlyList<RequestRecord>> Replay(string file)
        {
            var log = tmp.File(file + ".db");
            await using (var server = await KitServer.StartAsync(new ServerOptions
                         { ModelDirectory = ServerFixture.SampleModel, Port = 0, LogPath = log, Device = "cpu" }))
            {
                var texts = DriftTraffic.Read(Path.Combine(traffic, file)).Select(r => r.Text).ToList();
                var result = await TrafficReplay.For(server.Address, "base-model").Clients(4).MaxTokens(1).RunAsync(texts);
                Assert.Equal(0, result.Failed);
                Assert.Equal(texts.Count, result.LatenciesMs.Count);
            }
            return RequestLog.Read(log);
        }

        var calmLog = await Replay(DriftTraffic.InDistributionFile);
        Assert.Equal(DriftTraffic.Requests, calmLog.Count);
        var calm = DriftMonitor.Run(calmLog, reference, window: "150", seed: 1);
        Assert.True(calm.Alerts.Count == 0, string.Join("; ", calm.Alerts.Select(a => a.Evidence)));

        var driftLog = await Replay(DriftTraffic.DriftFile);
        var drift = DriftMonitor.Run(driftLog, reference, window: "150", seed: 1);
        var checks = drift.Alerts.Select(a => a.Check).ToHashSet();
        foreach (var expected in new[] { "tfidf_mmd", "unknown_words", "input_words_psi", "input_words_vs_earlier_psi" })
            Assert.True(checks.Contains(expected), $"no {expected} alert; alerts: {string.Join(", ", checks)}");
    }
}
