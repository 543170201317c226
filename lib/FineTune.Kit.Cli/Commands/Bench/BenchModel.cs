using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Training;
using static TorchSharp.torch;

namespace FineTune.Kit.Cli.Commands.Bench;

/// <summary>
/// `ftk bench forward` and `ftk bench train`: throughput of a random Llama-family model, with model FLOPs utilisation
/// measured against a matmul peak taken in the same process, and KV-cache generation against recomputation.
/// </summary>
internal static class BenchModel
{
    /// <summary>
    /// The model shape and the run size: the same options, names and checks as `ftk pretrain`'s, or --preset for the
    /// real shape of a small open model (random weights).
    /// </summary>
    private sealed class Shape
    {
        public ModelShapeOptions Model { get; } = new(layers: 4, hidden: 256, heads: 8, kvHeads: 4, ffn: 688, vocabSize: 4096);
        public TrainingOptions Run { get; } = new(steps: 20, batchSize: 8, seqLen: 128);
        public Option<string?> Preset { get; } = new Option<string?>("--preset")
        {
            Description = $"A real model shape with random weights: {string.Join(", ", ModelPresets.Names)} (replaces the shape options)",
        }.Check(v => v is null || ModelPresets.Names.Contains(v, StringComparer.OrdinalIgnoreCase), $"one of {string.Join(", ", ModelPresets.Names)}");

        public Option<int> Seq => Run.SeqLen;
        public Option<int> Batch => Run.BatchSize;

        public IEnumerable<Option> All => Model.All.Concat<Option>([Preset, Run.SeqLen, Run.BatchSize, Run.Steps]);

        public int Steps(ParseResult p) => p.GetValue(Run.Steps)!.Value;

        public void AddTo(Command command)
        {
            foreach (var o in All) command.Options.Add(o);
            Model.CheckHeads(command);
            command.Validators.Add(c =>
            {
                if (c.GetResult(Preset) is { Implicit: false } && Model.All.FirstOrDefault(o => c.GetResult(o) is { Implicit: false }) is { } shape)
                    c.AddError($"--preset fixes the model shape: leave out {shape.Name}");
            });
        }

        public ModelConfig Config(ParseResult p)
        {
            int positions = Math.Max(512, p.GetValue(Seq) + 300);
            if (p.GetValue(Preset) is { } preset) return ModelPresets.Get(preset, maxPositions: positions);
            return ModelConfig.Llama(p.GetValue(Model.VocabSize), p.GetValue(Model.Hidden), p.GetValue(Model.Layers),
                p.GetValue(Model.Heads), p.GetValue(Model.KvHeads), p.GetValue(Model.Ffn), maxPositions: positions, tied: true);
        }
    }

    public static Command Forward()
    {
        var shape = new Shape();
        var newTokens = Cli.Optional("--max-new-tokens", "Tokens generated in the cache comparison", 256, "--new-tokens").AtLeast(1);
        var command = new Command("forward", "Forward+backward tokens/s and MFU; KV-cache generation against recomputation") { newTokens };
        shape.AddTo(command);
        command.Handle(p =>
        {
            using var model = CausalLM.Create(shape.Config(p), seed: 1, device: "cpu");
            model.UnfreezeAll();
            var (tps, stepMs, mfu, peak, _) = TrainSteps(model, p.GetValue(shape.Seq), p.GetValue(shape.Batch), shape.Steps(p), lora: false);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"forward+backward: {tps:F0} tokens/s, {stepMs:F0} ms/step, MFU {mfu:P1} of a {peak / 1e9:F1} GFLOP/s matmul peak"));
            int n = p.GetValue(newTokens);
            var prompt = new List<IReadOnlyList<long>> { Enumerable.Range(1, 16).Select(i => (long)i).ToArray() };
            double Time(bool cache)
            {
                var sw = Stopwatch.StartNew();
                model.Generate(prompt, new GenerationOptions { MaxNewTokens = n, UseCache = cache });
                return sw.Elapsed.TotalSeconds;
            }
            Time(true);
            double cached = Time(true), recomputed = Time(false);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"generation of {n} tokens: KV cache {cached:F2} s, recomputation {recomputed:F2} s, speed-up {recomputed / cached:F1}x"));
            return 0;
        });
        return command;
    }

    /// <summary>The memory-saving switches of one training run; a variant name joins them with '+' (e.g. "bf16+checkpointing").</summary>
    private sealed record Variant(bool BFloat16Base, bool Checkpointing, bool Packing, bool Short)
    {
        // "short": examples of random lengths, padded one per row (the baseline of "packing")
        public static readonly string[] Parts = ["plain", "bf16", "checkpointing", "packing", "short"];

        public static Variant Parse(string name)
        {
            var parts = name.Split('+', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0 || parts.FirstOrDefault(x => !Parts.Contains(x)) is { } bad)
                throw new ArgumentException($"--compare: \"{name}\" is not a variant: join {string.Join(", ", Parts)} with '+' (e.g. bf16+checkpointing).");
            if (parts.Contains("packing") && parts.Contains("short"))
                throw new ArgumentException($"--compare: \"{name}\": packing trains on short examples already; short is its padded baseline.");
            return new Variant(parts.Contains("bf16"), parts.Contains("checkpointing"), parts.Contains("packing"), parts.Contains("short"));
        }

        public IEnumerable<string> Flags() =>
            [.. BFloat16Base ? new[] { "--base-dtype", "bfloat16" } : [], .. Checkpointing ? new[] { "--checkpointing" } : [],
             .. Packing ? new[] { "--packing" } : [], .. Short ? new[] { "--short-examples" } : []];
    }

    public static Command Train()
    {
        var shape = new Shape();
        var r = Cli.Optional("--lora-r", "LoRA rank", 8).AtLeast(1);
        var targets = Cli.Optional("--targets", "Modules LoRA adapts, comma separated, or all-linear", "q_proj,v_proj");
        var full = Cli.Optional("--full", "Full fine-tuning instead of LoRA", false);
        var baseType = Cli.Optional("--base-dtype", "Type of the frozen base weights under the float32 adapter: float32 or bfloat16", "float32").OneOf("float32", "bfloat16");
        var checkpointing = Cli.Optional("--checkpointing", "Activation checkpointing per block", false);
        var packing = Cli.Optional("--packing", "Train on examples of random lengths (1/8 to all of --seq-len) packed into rows, instead of padded one per row", false);
        var shortExamples = Cli.Optional("--short-examples", "Examples of random lengths (1/8 to all of --seq-len), padded one per row: the baseline for --packing", false);
        var compare = new Option<string?>("--compare")
        {
            Description = "Run each variant in a process of its own and print them side by side, ratios to the first: comma-separated, " +
                          "each plain, bf16, checkpointing, packing or short (short examples padded one per row), or several joined with '+'",
        };
        var json = Cli.Optional("--json", "Print the figures as JSON", false);
        var command = new Command("train", "Training step throughput, peak memory and MFU for LoRA or full fine-tuning (one run per process)")
            { r, targets, full, baseType, checkpointing, packing, shortExamples, compare, json };
        shape.AddTo(command);
        command.Validators.Add(c =>
        {
            if (c.GetResult(full) is { Implicit: false } && c.GetResult(baseType) is { Implicit: false })
                c.AddError("--base-dtype is for LoRA: full fine-tuning trains the base weights, which stay float32");
            if (c.GetResult(packing) is { Implicit: false } && c.GetResult(shortExamples) is { Implicit: false })
                c.AddError("--packing already trains on short examples; --short-examples is its padded baseline");
        });
        command.Handle(p =>
        {
            if (p.GetValue(compare) is { } list) return CompareVariants(p, list, [compare.Name, json.Name]);
            var weights = p.GetValue(baseType) == "bfloat16" ? ScalarType.BFloat16 : ScalarType.Float32;
            using var model = CausalLM.Create(shape.Config(p), seed: 1, device: "cpu");
            model.GradientCheckpointing = p.GetValue(checkpointing);
            bool lora = !p.GetValue(full);
            if (!lora) model.UnfreezeAll();
            else model.AddLora(r: p.GetValue(r), targets: p.GetValue(targets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), dropout: 0);
            if (weights == ScalarType.BFloat16) model.StoreFrozenWeightsIn(ScalarType.BFloat16);
            // the float32 weights drawn before the conversion are gone: the peak counts from here
            bool peakReset = ResetPeakRss();
            bool varied = p.GetValue(packing) || p.GetValue(shortExamples);
            var run = TrainSteps(model, p.GetValue(shape.Seq), p.GetValue(shape.Batch), shape.Steps(p), lora, varied, p.GetValue(packing));
            var result = new JsonObject
            {
                ["model"] = p.GetValue(shape.Preset) ?? "custom", ["parameters"] = model.ParameterCount,
                ["trainable_params"] = model.TrainableParameterCount, ["base_dtype"] = CausalLM.TorchDtypeName(weights),
                ["checkpointing"] = p.GetValue(checkpointing), ["packing"] = p.GetValue(packing), ["short_examples"] = p.GetValue(shortExamples),
                ["tokens_per_second"] = Math.Round(run.TokensPerSecond, 1), ["step_ms"] = Math.Round(run.StepMs, 1),
                ["peak_rss_mb"] = Math.Round(PeakRssMb(), 1), ["peak_from_training_only"] = peakReset,
                ["weight_bytes"] = model.Module.parameters().Sum(w => w.numel() * w.element_size()), ["mfu"] = Math.Round(run.Mfu, 4), ["matmul_peak_gflops"] = Math.Round(run.Peak / 1e9, 1),
                ["threads"] = get_num_threads(), ["losses"] = new JsonArray(run.Losses.Select(l => (JsonNode)Math.Round(l, 5)).ToArray()),
            };
            Console.WriteLine(p.GetValue(json) ? result.ToJsonString()
                : string.Join(", ", result.Where(kv => kv.Key != "losses").Select(kv => $"{kv.Key} {kv.Value}")) +
                  $"; losses {string.Join(" ", run.Losses.Select(l => l.ToString("F4", CultureInfo.InvariantCulture)))}");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Runs `ftk bench train` once per variant, each in a fresh process (so that peak memory is each run's own), with
    /// the same options otherwise, and prints them side by side with ratios to the first variant.
    /// </summary>
    private static int CompareVariants(ParseResult p, string list, string[] own)
    {
        var variants = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(v => (Name: v, Variant: Variant.Parse(v))).ToList();
        if (variants.Count < 2) throw new ArgumentException("--compare needs two variants or more, e.g. plain,bf16.");
        // the options as given, less --compare/--json and the switches that the variants set
        var switches = new HashSet<string> { "--base-dtype", "--checkpointing", "--packing", "--short-examples" };
        var tokens = p.Tokens.Select(t => t.Value).ToList();
        var args = new List<string>();
        int start = tokens.IndexOf("train") + 1;
        for (int i = start; i < tokens.Count; i++)
        {
            string t = tokens[i];
            bool hasValue = i + 1 < tokens.Count && !tokens[i + 1].StartsWith("--");
            if (own.Contains(t) || switches.Contains(t)) { if (hasValue && t is "--base-dtype" or "--compare") i++; continue; }
            args.Add(t);
        }
        var rows = new List<(string Name, JsonObject Figures)>();
        foreach (var (name, variant) in variants)
        {
            Console.Error.WriteLine($"ftk bench train: running {name} …");
            var output = SelfProcess.Run(["bench", "train", .. args, .. variant.Flags(), "--json"]);
            rows.Add((name, JsonNode.Parse(output.Trim().Split('\n')[^1])!.AsObject()));
        }
        var first = rows[0].Figures;
        double Num(JsonObject o, string key) => o[key]!.GetValue<double>();
        var table = new Table().AddColumns("variant", "tokens/s", "ratio", "peak RSS MB", "ratio", "weights MB", "MFU", "final loss");
        foreach (var (name, f) in rows)
        {
            var losses = f["losses"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
            table.AddRow(name, $"{Num(f, "tokens_per_second"):F1}", $"{Num(f, "tokens_per_second") / Num(first, "tokens_per_second"):F2}×",
                $"{Num(f, "peak_rss_mb"):F0}", $"{Num(f, "peak_rss_mb") / Num(first, "peak_rss_mb"):F2}×", $"{Num(f, "weight_bytes") / 1048576:F0}", $"{Num(f, "mfu"):P1}",
                losses.Length == 0 ? "-" : losses[^1].ToString("F4", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
        var firstLosses = first["losses"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
        foreach (var (name, f) in rows.Skip(1))
        {
            var losses = f["losses"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
            // packed rows hold other batches than padded ones: their losses are not step-for-step comparable
            if (losses.Length != firstLosses.Length || f["packing"]!.GetValue<bool>() != first["packing"]!.GetValue<bool>()) continue;
            double worst = losses.Zip(firstLosses, (a, b) => Math.Abs(a - b) / Math.Abs(b)).Max();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: loss curve within {worst:P2} of {rows[0].Name} at every step"));
        }
        return 0;
    }

    private sealed record StepRun(double TokensPerSecond, double StepMs, double Mfu, double Peak, IReadOnlyList<double> Losses);

    /// <summary>
    /// Times optimizer steps on random tokens; returns tokens/s (real tokens), ms/step, MFU, the matmul peak used and
    /// the loss of every timed step. <paramref name="varied"/>: examples of random lengths, packed when <paramref name="pack"/>.
    /// </summary>
    private static StepRun TrainSteps(CausalLM model, int seq, int batch, int steps, bool lora, bool varied = false, bool pack = false)
    {
        var rng = new Random(1);
        int Length() => varied ? rng.Next(Math.Max(2, seq / 8), seq + 1) : seq;
        // packed runs need about twice as many short examples per row; generate plenty either way
        int count = batch * (steps + 2) * (varied ? 4 : 1);
        var examples = Enumerable.Range(0, count)
            .Select(_ => TokenizedExample.AllTokens(Enumerable.Range(0, Length()).Select(_ => (long)rng.Next(model.Config.VocabSize)).ToArray())).ToList();
        var trainer = Trainer.For(model).LearningRate(1e-4).BatchSize(batch).MaxSequenceLength(seq).Seed(1).Packing(pack);
        trainer.Steps(2).Fit(examples);                                      // warm-up
        var losses = new List<double>();
        long realTokens = 0;
        trainer.OnStep(m => { losses.Add(m.Loss); realTokens += m.Tokens; });
        var sw = Stopwatch.StartNew();
        trainer.Steps(steps).Fit(examples);
        double seconds = sw.Elapsed.TotalSeconds;
        var c = model.Config;
        // matmul FLOPs per token: 2 per weight forward; backward 2 for input gradients, plus 2 for weight gradients when
        // the weights train (LoRA freezes the base, so its weight-gradient matmuls are not done); attention scores and
        // values 4·T·(heads·head_dim) per layer forward, twice that backward. Checkpointing's recomputation is not counted:
        // MFU measures useful work.
        long matmulWeights = model.ParameterCount;                            // embeddings count once: as the (tied) head
        double perToken = (lora ? 4.0 : 6.0) * matmulWeights + 3.0 * 4 * c.NumLayers * seq * c.NumHeads * c.HeadDim / 2;
        double achieved = perToken * realTokens / seconds;
        double peak = MatmulPeak();
        return new StepRun(realTokens / seconds, 1000 * seconds / steps, achieved / peak, peak, losses);
    }

    /// <summary>FLOP/s of a large float32 matmul on this machine, now.</summary>
    internal static double MatmulPeak(int n = 1024, int repeats = 10)
    {
        using var scope = NewDisposeScope();
        var a = randn(n, n);
        var b = randn(n, n);
        a.matmul(b);
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < repeats; i++) a.matmul(b);
        return 2.0 * n * n * n * repeats / sw.Elapsed.TotalSeconds;
    }

    /// <summary>Resets the kernel's peak-RSS mark of this process (Linux: "5" into /proc/self/clear_refs); false where it cannot.</summary>
    private static bool ResetPeakRss()
    {
        try
        {
            GC.Collect();
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    private static double PeakRssMb()
    {
        foreach (var line in File.Exists("/proc/self/status") ? File.ReadLines("/proc/self/status") : [])
            if (line.StartsWith("VmHWM:")) return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
        return Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;
    }
}
