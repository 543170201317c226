using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit;
using FineTune.Kit.Bench;
using FineTune.Kit.Models;
using FineTune.Kit.Serving;
using static TorchSharp.torch;

// The kit's greedy generation against llama.cpp on the same weights: the model is exported to GGUF (F32 and F16) with
// the kit's exporter, both engines decode the same prompt ids at batch 1 with the same thread count, runs alternate
// (kit, llama.cpp F32, llama.cpp F16, then again) so that a drift in the machine's speed weighs on all alike, and the
// medians are compared as kit ÷ llama.cpp.

var options = BenchOptions.Parse(args);
if (options is null) return 2;

var work = Path.Combine(Path.GetTempPath(), "ftk-bench-llamacpp-" + Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(work);
try
{
    string folder = options.Model;
    if (options.Preset is { } preset)
    {
        folder = Path.Combine(work, "model");
        BenchModelFolder.WritePreset(preset, options.Seed, folder);
    }
    using var model = CausalLM.Load(folder, new LoadOptions { Device = "cpu" });
    if (options.PromptTokens + options.NewTokens > model.Config.MaxPositions)
        return Fail($"--prompt-tokens {options.PromptTokens} plus --new-tokens {options.NewTokens} exceed the model's context of {model.Config.MaxPositions} positions");
    var rng = new Random(options.Seed);
    var prompt = Enumerable.Range(0, options.PromptTokens).Select(_ => (long)rng.Next(model.Config.VocabSize)).ToArray();

    var engines = new List<(string Name, Func<int, GenerationTiming> Run, IDisposable? Owner)>
    {
        ("kit", threads => { set_num_threads(threads); return GenerationTiming.Measure(model, prompt, options.NewTokens); }, null),
    };
    foreach (var type in options.Types)
    {
        var path = Path.Combine(work, $"model.{type}.gguf");
        GgufExporter.Export(model, path, type);
        var runner = LlamaCppRunner.Load(path);
        engines.Add(($"llama.cpp {type}", threads => runner.Greedy(prompt, options.NewTokens, threads), runner));
    }

    var rows = new JsonArray();
    foreach (var threads in options.Threads)
    {
        foreach (var e in engines) e.Run(threads);                                   // warm-up
        var timings = engines.ToDictionary(e => e.Name, _ => new List<GenerationTiming>());
        for (int r = 0; r < options.Repeats; r++)
            foreach (var e in r % 2 == 0 ? engines : Enumerable.Reverse(engines))
                timings[e.Name].Add(e.Run(threads));
        var kit = timings["kit"];
        foreach (var e in engines)
        {
            var t = timings[e.Name];
            var row = new JsonObject
            {
                ["threads"] = threads, ["engine"] = e.Name,
                ["prefill_tokens_per_second"] = Round(Median(t.Select(x => x.PrefillTokensPerSecond))),
                ["decode_tokens_per_second"] = Round(Median(t.Select(x => x.DecodeTokensPerSecond))),
                ["decode_ms_per_token"] = Round(Median(t.Select(x => x.DecodeMsPerToken))),
                ["prefill_tokens_per_cpu_second"] = Round(Median(t.Select(x => x.PrefillTokensPerCpuSecond))),
                ["decode_tokens_per_cpu_second"] = Round(Median(t.Select(x => x.DecodeTokensPerCpuSecond))),
            };
            if (e.Name != "kit")
            {
                row["greedy_tokens_agreeing"] = kit[0].Tokens.Zip(t[0].Tokens).TakeWhile(p => p.First == p.Second).Count();
                row["kit_over_llamacpp_prefill"] = Round(Median(kit.Select(x => x.PrefillTokensPerSecond)) / Median(t.Select(x => x.PrefillTokensPerSecond)));
                row["kit_over_llamacpp_decode"] = Round(Median(kit.Select(x => x.DecodeTokensPerSecond)) / Median(t.Select(x => x.DecodeTokensPerSecond)));
                // per CPU second: the work each engine does per token, less sensitive to other load on the machine
                row["kit_over_llamacpp_prefill_cpu"] = Round(Median(kit.Select(x => x.PrefillTokensPerCpuSecond)) / Median(t.Select(x => x.PrefillTokensPerCpuSecond)));
                row["kit_over_llamacpp_decode_cpu"] = Round(Median(kit.Select(x => x.DecodeTokensPerCpuSecond)) / Median(t.Select(x => x.DecodeTokensPerCpuSecond)));
            }
            rows.Add(row);
        }
    }
    foreach (var e in engines) e.Owner?.Dispose();

    var result = new JsonObject
    {
        ["model"] = options.Preset ?? options.Model, ["random_weights"] = options.Preset is not null, ["parameters"] = model.ParameterCount,
        ["prompt_tokens"] = options.PromptTokens, ["new_tokens"] = options.NewTokens, ["repeats"] = options.Repeats, ["rows"] = rows,
    };
    if (options.Json) Console.WriteLine(result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    else Print(result);
    return 0;
}
catch (Exception e) when (e is KitException or ArgumentException)
{
    // an architecture the exporter does not write (Gemma's sliding windows) or a model folder it cannot read
    return Fail(e.Message);
}
finally
{
    Directory.Delete(work, recursive: true);
}

static double Median(IEnumerable<double> xs)
{
    var s = xs.Order().ToArray();
    return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
}

static double Round(double x) => Math.Round(x, 3);

static int Fail(string message)
{
    Console.Error.WriteLine($"FineTune.Kit.Bench: {message}");
    return 2;
}

static void Print(JsonObject result)
{
    var ic = CultureInfo.InvariantCulture;
    Console.WriteLine(string.Create(ic, $"{result["model"]} ({(long)result["parameters"]! / 1e6:F1}M parameters{((bool)result["random_weights"]! ? ", random weights" : "")}), " +
                                       $"batch 1, greedy, {result["prompt_tokens"]} prompt tokens, {result["new_tokens"]} new tokens, median of {result["repeats"]} runs"));
    Console.WriteLine($"{"threads",7}  {"engine",-14} {"prefill tok/s",13} {"decode tok/s",12} {"ms/token",9} {"agree",6} {"kit÷ prefill",12} {"kit÷ decode",11}" +
                      $" {"decode tok/CPU-s",16} {"kit÷ prefill CPU",16} {"kit÷ decode CPU",15}");
    foreach (var row in result["rows"]!.AsArray())
    {
        string F(string key, string format) => row![key] is { } v ? ((double)v).ToString(format, ic) : "";
        Console.WriteLine($"{(int)row!["threads"]!,7}  {(string)row["engine"]!,-14} {F("prefill_tokens_per_second", "F1"),13} {F("decode_tokens_per_second", "F1"),12} " +
                          $"{F("decode_ms_per_token", "F2"),9} {(row["greedy_tokens_agreeing"] is { } a ? $"{(int)a}/{result["new_tokens"]}" : ""),6} " +
                          $"{F("kit_over_llamacpp_prefill", "0.00"),12} {F("kit_over_llamacpp_decode", "0.00"),11} {F("decode_tokens_per_cpu_second", "F1"),16} " +
                          $"{F("kit_over_llamacpp_prefill_cpu", "0.00"),16} {F("kit_over_llamacpp_decode_cpu", "0.00"),15}");
    }
}

/// <summary>The command line: every value checked, a bad one refused in one line.</summary>
internal sealed record BenchOptions
{
    public string? Preset { get; init; }
    public string Model { get; init; } = Path.Combine("data", "sample", "base-model");
    public int PromptTokens { get; init; } = 32;
    public int NewTokens { get; init; } = 64;
    public int Repeats { get; init; } = 3;
    public int Seed { get; init; } = Seeds.Default;
    public int[] Threads { get; init; } = [1, 2];
    public GgufFileType[] Types { get; init; } = [GgufFileType.F32, GgufFileType.F16];
    public bool Json { get; init; }

    private const string Usage = "usage: [--preset smollm2-135m|qwen3-0.6b | --model DIR] [--prompt-tokens 32] [--new-tokens 64] " +
                                 "[--threads 1,2] [--types f32,f16] [--repeats 3] [--seed 42] [--json]";

    /// <summary>The options, or null after printing why not.</summary>
    public static BenchOptions? Parse(string[] args)
    {
        var o = new BenchOptions();
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string name = args[i];
                if (name == "--json") { o = o with { Json = true }; continue; }
                if (name is "--help" or "-h") { Console.WriteLine(Usage); return null; }
                if (i + 1 >= args.Length) throw new ArgumentException($"{name} needs a value ({Usage})");
                string value = args[++i];
                o = name switch
                {
                    "--preset" => o with { Preset = ModelPresets.Names.Contains(value.ToLowerInvariant()) ? value.ToLowerInvariant()
                        : throw new ArgumentException($"--preset must be one of {string.Join(", ", ModelPresets.Names)}, got {value}") },
                    "--model" => o with { Model = Directory.Exists(value) ? value : throw new ArgumentException($"--model {value}: no such folder") },
                    "--prompt-tokens" => o with { PromptTokens = Whole(name, value, 1) },
                    "--new-tokens" => o with { NewTokens = Whole(name, value, 2) },
                    "--repeats" => o with { Repeats = Whole(name, value, 1) },
                    "--seed" => o with { Seed = Whole(name, value, 0) },
                    "--threads" => o with { Threads = value.Split(',').Select(t => Whole(name, t, 1)).ToArray() },
                    "--types" => o with { Types = value.Split(',').Select(t => t.ToLowerInvariant() is "f32" or "f16" or "q8_0"
                        ? GgufExporter.ParseType(t) : throw new ArgumentException($"--types must list f32, f16 or q8_0, got {t}")).ToArray() },
                    _ => throw new ArgumentException($"unknown option {name} ({Usage})"),
                };
            }
            if (o.Preset is not null && args.Contains("--model")) throw new ArgumentException("--preset and --model cannot be combined");
            if (o.Preset is null && !Directory.Exists(o.Model)) throw new ArgumentException($"--model {o.Model}: no such folder");
            return o;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"FineTune.Kit.Bench: {e.Message}");
            return null;
        }
    }

    private static int Whole(string name, string text, int min) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min ? n
            : throw new ArgumentException($"{name} must be a whole number >= {min}, got {text}");
}
