using System.Text.Json.Nodes;
using FineTune.Kit.Tests.Cli;

namespace FineTune.Kit.Tests.Server;

/// <summary>`ftk bench serve` at a tiny size: it runs, answers every request on both servers and reports ratios.</summary>
public class BenchServeTests
{
    [Fact]
    public void Bench_serve_reports_batched_and_unbatched_side_by_side()
    {
        var (exit, output, err) = CliRunner.Run("bench", "serve", "--model", ServerFixture.SampleModel,
            "--prompts", Path.Combine(RepoFiles.Root, "data", "sample", "support_tickets.heldout.jsonl"),
            "--clients", "1,3", "--requests", "6", "--max-tokens", "2", "--max-batch", "4", "--json");
        Assert.True(exit == 0, err);
        var result = JsonNode.Parse(output)!;
        var levels = result["levels"]!.AsArray();
        Assert.Equal([1, 3], levels.Select(l => (int)l!["clients"]!));
        foreach (var level in levels)
            foreach (var kind in new[] { "unbatched", "batched" })
            {
                var f = level![kind]!;
                Assert.Equal(6, (int)f["requests"]!);
                Assert.Equal(0, (int)f["failed"]!);
                Assert.True((double)f["requests_per_second"]! > 0);
                Assert.True((double)f["latency_p95_ms"]! >= (double)f["latency_p50_ms"]!);
                // every request generated 1 or 2 tokens (the product of two rounded figures: a few percent either way)
                Assert.InRange((double)f["tokens_per_second"]! * (double)f["seconds"]!, 5.5, 12.5);
            }
        var first = levels[0]!;
        Assert.Equal(Math.Round((double)first["batched"]!["requests_per_second"]! / (double)first["unbatched"]!["requests_per_second"]!, 2),
            Math.Round((double)first["ratio"]!["requests_per_second"]!, 2), 1);
    }

    [Fact]
    public void A_bad_client_list_is_refused_in_one_line()
    {
        var (exit, _, err) = CliRunner.Run("bench", "serve", "--clients", "1,zero");
        Assert.NotEqual(0, exit);
        Assert.Contains("--clients must be a comma-separated list", err);
    }

    [Fact]
    public void Memory_is_read_before_and_at_each_request_count()
    {
        var (exit, output, err) = CliRunner.Run("bench", "serve", "--model", ServerFixture.SampleModel,
            "--prompts", Path.Combine(RepoFiles.Root, "data", "sample", "support_tickets.heldout.jsonl"),
            "--clients", "2", "--requests", "2", "--max-tokens", "1", "--memory-requests", "3,7", "--json");
        Assert.True(exit == 0, err);
        var memory = JsonNode.Parse(output)!["memory"]!;
        var readings = memory["readings"]!.AsArray();
        Assert.Equal([0, 3, 7], readings.Select(r => (int)r!["requests"]!));
        Assert.All(readings, r => Assert.True((double)r!["rss_mb"]! > 0 && (double)r["managed_heap_mb"]! > 0));
        Assert.Equal(0, (int)memory["failed"]!);
        Assert.Equal(Math.Round((double)readings[2]!["rss_mb"]! / (double)readings[1]!["rss_mb"]!, 3),
            (double)memory["rss_last_over_first_checkpoint"]!, 3);
    }

    [Theory]
    [InlineData("1000,100")]
    [InlineData("0")]
    [InlineData("ten")]
    public void A_bad_memory_request_list_is_refused_in_one_line(string value)
    {
        var (exit, _, err) = CliRunner.Run("bench", "serve", "--memory-requests", value);
        Assert.NotEqual(0, exit);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains("--memory-requests must be a comma-separated increasing list", err);
    }
}
