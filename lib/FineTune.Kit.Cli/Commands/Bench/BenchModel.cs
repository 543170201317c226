using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
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
    /// <summary>The model shape and the run size: the same options, names and checks as `ftk pretrain`'s.</summary>
    private sealed class Shape
    {
        public ModelShapeOptions Model { get; } = new(layers: 4, hidden: 256, heads: 8, kvHeads: 4, ffn: 688, vocabSize: 4096);
        public TrainingOptions Run { get; } = new(steps: 20, batchSize: 8, seqLen: 128);

        public Option<int> Seq => Run.SeqLen;
        public Option<int> Batch => Run.BatchSize;

        public IEnumerable<Option> All => Model.All.Concat<Option>([Run.SeqLen, Run.BatchSize, Run.Steps]);

        public int Steps(ParseResult p) => p.GetValue(Run.Steps)!.Value;

        public void AddTo(Command command)
        {
            foreach (var o in All) command.Options.Add(o);
            Model.CheckHeads(command);
        }

        public ModelConfig Config(ParseResult p) => ModelConfig.Llama(p.GetValue(Model.VocabSize), p.GetValue(Model.Hidden), p.GetValue(Model.Layers),
            p.GetValue(Model.Heads), p.GetValue(Model.KvHeads), p.GetValue(Model.Ffn), maxPositions: Math.Max(512, p.GetValue(Seq) + 300), tied: true);
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
            var (tps, stepMs, mfu, peak) = TrainSteps(model, p.GetValue(shape.Seq), p.GetValue(shape.Batch), shape.Steps(p), lora: false);
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

    public static Command Train()
    {
        var shape = new Shape();
        var r = Cli.Optional("--lora-r", "LoRA rank", 8).AtLeast(1);
        var full = Cli.Optional("--full", "Full fine-tuning instead of LoRA (q_proj, v_proj)", false);
        var json = Cli.Optional("--json", "Print the figures as JSON", false);
        var command = new Command("train", "Training step throughput, memory and MFU for LoRA or full fine-tuning (one per process)") { r, full, json };
        shape.AddTo(command);
        command.Handle(p =>
        {
            using var model = CausalLM.Create(shape.Config(p), seed: 1, device: "cpu");
            if (p.GetValue(full)) model.UnfreezeAll();
            else model.AddLora(r: p.GetValue(r), targets: ["q_proj", "v_proj"], dropout: 0);
            var (tps, stepMs, mfu, _) = TrainSteps(model, p.GetValue(shape.Seq), p.GetValue(shape.Batch), shape.Steps(p), lora: !p.GetValue(full));
            var result = new JsonObject
            {
                ["tokens_per_second"] = Math.Round(tps, 1), ["step_ms"] = Math.Round(stepMs, 1),
                ["trainable_params"] = model.TrainableParameterCount, ["peak_rss_mb"] = Math.Round(PeakRssMb(), 1), ["mfu"] = Math.Round(mfu, 4),
            };
            Console.WriteLine(p.GetValue(json) ? result.ToJsonString() : string.Join(", ", result.Select(kv => $"{kv.Key} {kv.Value}")));
            return 0;
        });
        return command;
    }

    /// <summary>Times optimizer steps on random tokens; returns tokens/s, ms/step, MFU and the matmul peak used.</summary>
    private static (double TokensPerSecond, double StepMs, double Mfu, double Peak) TrainSteps(CausalLM model, int seq, int batch, int steps, bool lora)
    {
        var rng = new Random(1);
        var examples = Enumerable.Range(0, batch * (steps + 2))
            .Select(_ => TokenizedExample.AllTokens(Enumerable.Range(0, seq).Select(_ => (long)rng.Next(model.Config.VocabSize)).ToArray())).ToList();
        var trainer = Trainer.For(model).LearningRate(1e-4).BatchSize(batch).MaxSequenceLength(seq).Seed(1);
        trainer.Steps(2).Fit(examples.Take(batch * 2).ToList());                       // warm-up
        var sw = Stopwatch.StartNew();
        trainer.Steps(steps).Fit(examples.Skip(batch * 2).ToList());
        double seconds = sw.Elapsed.TotalSeconds;
        double tokens = (double)batch * seq * steps;
        var c = model.Config;
        // matmul FLOPs per token: 2 per weight forward; backward 2 for input gradients, plus 2 for weight gradients when
        // the weights train (LoRA freezes the base, so its weight-gradient matmuls are not done); attention scores 4·T·d per layer
        long nonEmbedding = model.ParameterCount - (long)c.VocabSize * c.HiddenSize;
        long matmulWeights = nonEmbedding + (long)c.VocabSize * c.HiddenSize;   // the tied head is a matmul too
        double perToken = (lora ? 4.0 : 6.0) * matmulWeights + 3.0 * 4 * c.NumLayers * seq * c.HiddenSize / 2;
        double achieved = perToken * tokens / seconds;
        double peak = MatmulPeak();
        return (tokens / seconds, 1000 * seconds / steps, achieved / peak, peak);
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

    private static double PeakRssMb()
    {
        foreach (var line in File.Exists("/proc/self/status") ? File.ReadLines("/proc/self/status") : [])
            if (line.StartsWith("VmHWM:")) return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
        return Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;
    }
}
