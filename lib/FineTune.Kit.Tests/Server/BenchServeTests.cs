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
                // every request generated 1 or 2 tokens
                Assert.InRange((double)f["tokens_per_second"]! * (double)f["seconds"]!, 5.9, 12.1);
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
}
