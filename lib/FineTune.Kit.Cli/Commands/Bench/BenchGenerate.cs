using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using FineTune.Kit.Models;
using static TorchSharp.torch;

namespace FineTune.Kit.Cli.Commands.Bench;

/// <summary>
/// `ftk bench generate`: greedy generation at batch 1 with the KV cache, prefill and decode timed apart, on a preset
/// shape with random weights or on a model folder; the process's memory after each run shows whether it stays flat.
/// </summary>
internal static class BenchGenerate
{
    public static Command Create()
    {
        var preset = Cli.Optional<string?>("--preset", $"Model shape with random weights: {string.Join(", ", ModelPresets.Names)} (instead of --model)", null)
            .Check(v => v is null || ModelPresets.Names.Contains(v.ToLowerInvariant()), $"one of {string.Join(", ", ModelPresets.Names)}");
        var model = Cli.Optional("--model", "Model folder", Path.Combine("data", "sample", "base-model")).ExistingFolder();
        var promptTokens = Cli.Optional("--prompt-tokens", "Prompt length in tokens (random ids)", 32).AtLeast(1);
        var newTokens = Cli.Optional("--new-tokens", "Tokens generated per run (eos does not stop the run)", 64).AtLeast(2);
        var repeats = Cli.Optional("--repeats", "Timed runs after a warm-up; the median counts", 3).AtLeast(1);
        var threads = Cli.Optional<int?>("--threads", "Torch threads (default: TorchSharp's own choice)", null).AtLeast(1);
        var seed = Cli.Optional("--seed", "Seed of the random weights and prompt ids", Seeds.Default).AtLeast(0);
        var json = Cli.Optional("--json", "Print the figures as JSON", false);
        var command = new Command("generate", "Greedy generation tokens/s at batch 1: prefill and decode apart, ms per token")
        {
            preset, model, promptTokens, newTokens, repeats, threads, seed, json,
        };
        command.Validators.Add(c =>
        {
            if (c.GetValue(preset) is not null && c.GetResult(model) is { Implicit: false })
                c.AddError("--preset and --model cannot be combined: a preset has random weights, --model loads a folder");
        });
        command.Handle(p =>
        {
            if (p.GetValue(threads) is { } n) set_num_threads(n);
            string? presetName = p.GetValue(preset)?.ToLowerInvariant();
            using var m = presetName is { } name
                ? CausalLM.Create(ModelPresets.Get(name), p.GetValue(seed), device: "cpu")
                : CausalLM.Load(p.GetValue(model)!, new LoadOptions { Device = "cpu" });
            int promptLength = p.GetValue(promptTokens), count = p.GetValue(newTokens);
            if (promptLength + count > m.Config.MaxPositions)
                throw new ArgumentException($"--prompt-tokens {promptLength} plus --new-tokens {count} exceed the model's context of {m.Config.MaxPositions} positions");
            var rng = new Random(p.GetValue(seed));
            var prompt = Enumerable.Range(0, promptLength).Select(_ => (long)rng.Next(m.Config.VocabSize)).ToArray();

            GenerationTiming.Measure(m, prompt, Math.Min(count, 8));                        // warm-up: first calls load code paths
            var runs = new List<(GenerationTiming Timing, double RssMb, double ManagedMb)>();
            for (int r = 0; r < p.GetValue(repeats); r++)
            {
                var timing = GenerationTiming.Measure(m, prompt, count);
                runs.Add((timing, ProcessMemory.RssMb(), GC.GetTotalMemory(forceFullCollection: true) / 1048576.0));
            }
            static double Median(IEnumerable<double> xs)
            {
                var s = xs.Order().ToArray();
                return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
            }
            double prefill = Median(runs.Select(x => x.Timing.PrefillTokensPerSecond));
            double decode = Median(runs.Select(x => x.Timing.DecodeTokensPerSecond));
            var result = new JsonObject
            {
                ["model"] = presetName ?? p.GetValue(model), ["random_weights"] = presetName is not null, ["parameters"] = m.ParameterCount,
                ["threads"] = get_num_threads(), ["prompt_tokens"] = promptLength, ["new_tokens"] = count, ["repeats"] = runs.Count,
                ["prefill_tokens_per_second"] = Math.Round(prefill, 2), ["decode_tokens_per_second"] = Math.Round(decode, 2),
                ["decode_ms_per_token"] = Math.Round(1000 / decode, 3),
                ["runs"] = new JsonArray(runs.Select(x => (JsonNode)new JsonObject
                {
                    ["prefill_seconds"] = Math.Round(x.Timing.PrefillSeconds, 5), ["decode_seconds"] = Math.Round(x.Timing.DecodeSeconds, 5),
                    ["prefill_tokens_per_second"] = Math.Round(x.Timing.PrefillTokensPerSecond, 2),
                    ["decode_tokens_per_second"] = Math.Round(x.Timing.DecodeTokensPerSecond, 2),
                    ["rss_mb"] = Math.Round(x.RssMb, 1), ["managed_heap_mb"] = Math.Round(x.ManagedMb, 2),
                }).ToArray()),
            };
            if (p.GetValue(json)) { Console.WriteLine(result.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true })); return 0; }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result["model"]} ({m.ParameterCount / 1e6:F1}M parameters{(presetName is null ? "" : ", random weights")}), {get_num_threads()} thread(s), batch 1, greedy"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"prefill {promptLength} tokens: {prefill:F1} tokens/s; decode {count} tokens: {decode:F1} tokens/s, {1000 / decode:F2} ms/token (median of {runs.Count} runs after a warm-up)"));
            Console.WriteLine("memory after each run: " + string.Join(", ", runs.Select(x =>
                string.Create(CultureInfo.InvariantCulture, $"RSS {x.RssMb:F0} MB / managed {x.ManagedMb:F1} MB"))));
            return 0;
        });
        return command;
    }
}

/// <summary>The current process's memory as the benches report it.</summary>
internal static class ProcessMemory
{
    /// <summary>Resident set size in MB (VmRSS on Linux; the working set elsewhere).</summary>
    public static double RssMb()
    {
        foreach (var line in File.Exists("/proc/self/status") ? File.ReadLines("/proc/self/status") : [])
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.WorkingSet64 / 1048576.0;
    }
}
