using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using FineTune.Kit.Data;
using FineTune.Kit.Server;
using Spectre.Console;

namespace FineTune.Kit.Cli.Commands.Bench;

/// <summary>
/// `ftk bench serve`: the OpenAI-compatible server in this process on a loopback port, driven by concurrent clients
/// sending greedy chat requests; requests/s, tokens/s and p50/p95 latency with batching against one request per
/// generation, measured side by side (two servers loaded at once, each level run on both in turn, ABBA).
/// </summary>
internal static class BenchServe
{
    public static Command Create()
    {
        var model = Cli.Optional("--model", "Model folder", Path.Combine("data", "sample", "base-model")).ExistingFolder();
        var prompts = Cli.Optional("--prompts", "JSONL file whose text fields are the user messages",
            Path.Combine("data", "sample", "support_tickets.heldout.jsonl")).ExistingFile();
        var clients = Cli.Optional("--clients", "Concurrent clients, a comma-separated list of levels", "1,4,16")
            .Check(s => TryLevels(s, out _), "a comma-separated list of whole numbers >= 1 (1,4,16)");
        var requests = Cli.Optional("--requests", "Requests per level and server", 64).AtLeast(1);
        var maxTokens = Cli.Optional("--max-tokens", "max_tokens of each request", 16).AtLeast(1);
        var maxBatch = Cli.Optional("--max-batch", "Most requests generated together by the batched server", 8).AtLeast(2);
        var memory = Cli.Optional("--memory-requests", "Also send this many requests in all to the batched server and report the process's " +
                                                        "memory at each count, a comma-separated increasing list (1000,10000; none by default)", "")
            .Check(s => TryCheckpoints(s, out _), "a comma-separated increasing list of whole numbers >= 1 (1000,10000)");
        var json = Cli.Optional("--json", "Print the figures as JSON", false);
        var command = new Command("serve", "Server requests/s, tokens/s and latency under concurrent clients, batched against unbatched")
        {
            model, prompts, clients, requests, maxTokens, maxBatch, memory, json,
        };
        command.Handle(p =>
        {
            TryLevels(p.GetValue(clients)!, out var levels);
            var texts = Dataset.FromJsonl(p.GetValue(prompts)!).AsText().Select(r => r.Text).ToList();
            if (texts.Count == 0) throw new InvalidDataException($"{p.GetValue(prompts)}: no rows with text");
            TryCheckpoints(p.GetValue(memory)!, out var checkpoints);
            var result = RunAsync(p.GetValue(model)!, texts, levels, p.GetValue(requests), p.GetValue(maxTokens), p.GetValue(maxBatch), checkpoints)
                .GetAwaiter().GetResult();
            if (p.GetValue(json)) Console.WriteLine(result.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            else Print(result);
            return 0;
        });
        return command;
    }

    private static bool TryLevels(string text, out int[] levels)
    {
        levels = [];
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var parsed = new List<int>();
        foreach (var part in parts)
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1) return false;
            parsed.Add(n);
        }
        levels = [.. parsed];
        return parsed.Count > 0;
    }

    // empty: no memory phase
    private static bool TryCheckpoints(string text, out int[] counts)
    {
        counts = [];
        if (string.IsNullOrWhiteSpace(text)) return true;
        if (!TryLevels(text, out var parsed)) return false;
        counts = parsed;
        return parsed.Zip(parsed.Skip(1)).All(p => p.First < p.Second);
    }

    /// <summary>Both servers up at once; at each level the unbatched one is driven first, then the batched one.</summary>
    internal static async Task<JsonObject> RunAsync(string model, IReadOnlyList<string> texts, IReadOnlyList<int> levels, int requests,
        int maxTokens, int maxBatch, IReadOnlyList<int>? memoryCheckpoints = null)
    {
        ServerOptions Options(int batch) => new()
        {
            ModelDirectory = model, Host = "127.0.0.1", Port = 0, Device = "cpu", MaxBatch = batch,
            QueueCapacity = Math.Max(64, levels.Max() * 2), DefaultMaxTokens = maxTokens,
        };
        await using var unbatched = await KitServer.StartAsync(Options(1));
        await using var batched = await KitServer.StartAsync(Options(maxBatch));
        var name = unbatched.ModelNames[0];
        var work = Enumerable.Range(0, requests).Select(i => texts[i % texts.Count]).ToList();
        foreach (var server in new[] { unbatched, batched })                     // warm-up: first calls load code paths
            await TrafficReplay.For(server.Address, name).Clients(Math.Min(4, levels.Max())).MaxTokens(maxTokens).RunAsync(work.Take(8).ToList());

        var rows = new JsonArray();
        var halves = new[] { work.Take((requests + 1) / 2).ToList(), work.Skip((requests + 1) / 2).ToList() };
        foreach (var level in levels)
        {
            // in the order unbatched, batched, batched, unbatched (half the requests each time), so that a drift in the
            // machine's speed during the level weighs on both servers alike
            Task<ReplayResult> Run(KitServer server, List<string> part) => part.Count == 0
                ? Task.FromResult(new ReplayResult([], 0, 0, 0))
                : TrafficReplay.For(server.Address, name).Clients(level).MaxTokens(maxTokens).RunAsync(part);
            var one = await Run(unbatched, halves[0]);
            var many = await Run(batched, halves[0]);
            many = Join(many, await Run(batched, halves[1]));
            one = Join(one, await Run(unbatched, halves[1]));
            rows.Add(new JsonObject
            {
                ["clients"] = level, ["unbatched"] = Figures(one), ["batched"] = Figures(many),
                ["ratio"] = new JsonObject
                {
                    ["requests_per_second"] = Round(many.RequestsPerSecond / one.RequestsPerSecond),
                    ["tokens_per_second"] = Round(many.TokensPerSecond / one.TokensPerSecond),
                    ["latency_p50"] = Round(many.LatencyQuantileMs(0.5) / one.LatencyQuantileMs(0.5)),
                    ["latency_p95"] = Round(many.LatencyQuantileMs(0.95) / one.LatencyQuantileMs(0.95)),
                },
            });
        }
        var result = new JsonObject
        {
            ["model"] = name, ["requests_per_level"] = requests, ["max_tokens"] = maxTokens, ["max_batch"] = maxBatch, ["levels"] = rows,
        };
        if (memoryCheckpoints is { Count: > 0 })
            result["memory"] = await MemoryAsync(batched, name, texts, memoryCheckpoints, Math.Min(4, levels.Max()), maxTokens);
        return result;
    }

    /// <summary>
    /// Sends requests to a server until each checkpoint count is reached and reads the process's memory there, after a
    /// full garbage collection (finalizers run too, so tensors no longer referenced have returned their native memory).
    /// A leak per request shows as growth between the checkpoints; the first reading is taken before the phase.
    /// </summary>
    private static async Task<JsonObject> MemoryAsync(KitServer server, string name, IReadOnlyList<string> texts, IReadOnlyList<int> checkpoints,
        int clients, int maxTokens)
    {
        JsonObject Reading(int sent, double seconds)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            return new JsonObject
            {
                ["requests"] = sent, ["seconds"] = Round(seconds), ["rss_mb"] = Math.Round(ProcessMemory.RssMb(), 1),
                ["managed_heap_mb"] = Math.Round(GC.GetTotalMemory(forceFullCollection: false) / 1048576.0, 2),
            };
        }
        var readings = new JsonArray { Reading(0, 0) };
        int sent = 0, failed = 0;
        double seconds = 0;
        foreach (var checkpoint in checkpoints)
        {
            var part = Enumerable.Range(sent, checkpoint - sent).Select(i => texts[i % texts.Count]).ToList();
            var run = await TrafficReplay.For(server.Address, name).Clients(clients).MaxTokens(maxTokens).RunAsync(part);
            failed += run.Failed;
            seconds += run.Seconds;
            sent = checkpoint;
            readings.Add(Reading(sent, seconds));
        }
        var first = readings[1]!;
        var last = readings[^1]!;
        return new JsonObject
        {
            ["clients"] = clients, ["failed"] = failed, ["readings"] = readings,
            ["rss_last_over_first_checkpoint"] = Round((double)last["rss_mb"]! / (double)first["rss_mb"]!),
            ["managed_last_over_first_checkpoint"] = Round((double)last["managed_heap_mb"]! / (double)first["managed_heap_mb"]!),
        };
    }

    private static ReplayResult Join(ReplayResult a, ReplayResult b) =>
        new([.. a.LatenciesMs, .. b.LatenciesMs], a.Failed + b.Failed, a.CompletionTokens + b.CompletionTokens, a.Seconds + b.Seconds);

    private static double Round(double x) => Math.Round(x, 3);

    private static JsonObject Figures(ReplayResult r) => new()
    {
        ["requests"] = r.LatenciesMs.Count, ["failed"] = r.Failed, ["seconds"] = Round(r.Seconds),
        ["requests_per_second"] = Round(r.RequestsPerSecond), ["tokens_per_second"] = Round(r.TokensPerSecond),
        ["latency_p50_ms"] = Round(r.LatencyQuantileMs(0.5)), ["latency_p95_ms"] = Round(r.LatencyQuantileMs(0.95)),
    };

    private static void Print(JsonObject result)
    {
        var table = new Table().AddColumn("clients").AddColumn("server").AddColumn(new TableColumn("requests/s").RightAligned())
            .AddColumn(new TableColumn("tokens/s").RightAligned()).AddColumn(new TableColumn("p50 ms").RightAligned())
            .AddColumn(new TableColumn("p95 ms").RightAligned());
        static string F(JsonNode? n, string format) => ((double)n!).ToString(format, CultureInfo.InvariantCulture);
        foreach (var level in result["levels"]!.AsArray())
        {
            var clients = ((int)level!["clients"]!).ToString(CultureInfo.InvariantCulture);
            foreach (var kind in new[] { "unbatched", "batched" })
            {
                var f = level[kind]!;
                table.AddRow(clients, kind, F(f["requests_per_second"], "F1"), F(f["tokens_per_second"], "F0"),
                    F(f["latency_p50_ms"], "F0"), F(f["latency_p95_ms"], "F0"));
            }
            var r = level["ratio"]!;
            table.AddRow(clients, "[bold]batched ÷ unbatched[/]", F(r["requests_per_second"], "0.00") + "×", F(r["tokens_per_second"], "0.00") + "×",
                F(r["latency_p50"], "0.00") + "×", F(r["latency_p95"], "0.00") + "×");
        }
        Cli.Out.Write(table);
        Console.WriteLine($"{result["requests_per_level"]} greedy chat requests of up to {result["max_tokens"]} tokens per level and server; " +
                          $"batched server: up to {result["max_batch"]} requests per generation");
        if (result["memory"] is not { } memory) return;
        Console.WriteLine($"memory of the server process (both servers; {memory["clients"]} clients on the batched one, {memory["failed"]} failed):");
        foreach (var r in memory["readings"]!.AsArray())
            Console.WriteLine($"  after {(int)r!["requests"]!,6} requests: RSS {F(r["rss_mb"], "F1")} MB, managed heap {F(r["managed_heap_mb"], "F2")} MB");
        Console.WriteLine($"  last ÷ first checkpoint: RSS {F(memory["rss_last_over_first_checkpoint"], "0.000")}×, managed heap {F(memory["managed_last_over_first_checkpoint"], "0.000")}×");
    }
}
