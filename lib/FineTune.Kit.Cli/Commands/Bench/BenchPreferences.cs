using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Preferences;

namespace FineTune.Kit.Cli.Commands.Bench;

/// <summary>
/// `ftk bench dpo`: DPO steps per second on random pairs with the base model and a LoRA adapter, the reference
/// computed in every step (the adapter switched off) against precomputed once; and the weight memory a second
/// reference copy would add, which the adapter-off reference does not. The timed steps make two epochs over the pairs.
/// </summary>
internal static class BenchPreferences
{
    public static Command Dpo()
    {
        var model = Cli.Optional("--model", "Model folder", Path.Combine("data", "sample", "base-model")).ExistingFolder();
        var steps = Cli.Optional("--steps", "Timed DPO steps per variant", 10).AtLeast(1);
        var batch = Cli.Optional("--batch-size", "Pairs per step", 4).AtLeast(1);
        var length = Cli.Optional("--seq-len", "Tokens of prompt plus response", 128).AtLeast(4);
        var json = Cli.Optional("--json", "Print the figures as JSON", false);
        var command = new Command("dpo", "DPO pairs per second: reference computed every step (adapter off) against precomputed once");
        foreach (var o in new Option[] { model, steps, batch, length, json }) command.Options.Add(o);
        command.Handle(p =>
        {
            using var m = CausalLM.Load(p.GetValue(model)!, new LoadOptions { Device = "cpu" });
            m.AddLora(r: 8, alpha: 16, targets: ["all-linear"], dropout: 0, seed: 1);
            int n = p.GetValue(steps), b = p.GetValue(batch), len = p.GetValue(length), prompt = len / 2;
            var rng = new Random(1);
            long[] Tokens(int count) => Enumerable.Range(0, count).Select(_ => (long)rng.Next(1, m.Config.VocabSize)).ToArray();
            // the timed steps go twice over the pairs: the precomputed reference is paid once, the per-step one twice
            var data = PreferenceData.FromPairs(Enumerable.Range(0, Math.Max(b, n * b / 2)).Select(_ => new PreferencePair(Tokens(prompt), Tokens(len - prompt), Tokens(len - prompt))));
            double PairsPerSecond(bool precompute)
            {
                DpoTrainer.For(m).Steps(1).BatchSize(b).PrecomputeReference(precompute).Fit(PreferenceData.FromPairs(data.Pairs.Take(b)));   // warm-up
                var sw = Stopwatch.StartNew();
                DpoTrainer.For(m).Steps(n).BatchSize(b).PrecomputeReference(precompute).Fit(data);
                return n * b / sw.Elapsed.TotalSeconds;
            }
            double everyStep = PairsPerSecond(false), precomputed = PairsPerSecond(true);
            double weightsMb = m.Module.parameters().Where(t => !t.requires_grad).Sum(t => t.numel() * t.element_size()) / 1048576.0;
            var result = new JsonObject
            {
                ["pairs_per_second_reference_every_step"] = Math.Round(everyStep, 2),
                ["pairs_per_second_reference_precomputed"] = Math.Round(precomputed, 2),
                ["speed_up"] = Math.Round(precomputed / everyStep, 2),
                ["second_copy_weights_mb"] = Math.Round(weightsMb, 1),
                ["adapter_off_reference_extra_mb"] = 0,
            };
            Console.WriteLine(p.GetValue(json) ? result.ToJsonString() : string.Join(", ", result.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value}"))));
            return 0;
        });
        return command;
    }
}
