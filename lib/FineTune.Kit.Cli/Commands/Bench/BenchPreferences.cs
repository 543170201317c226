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

    /// <summary>
    /// `ftk bench grpo`: how fast GRPO's sampling is, on random prompts with the base model and a LoRA adapter. A step
    /// samples group-size completions of each prompt; here they are generated as one batch (what the trainer does,
    /// with the KV cache) and one completion at a time, at the same temperature and length limit, and both are
    /// reported as completions and new tokens per second. Then a few whole GRPO steps (sampling, scoring, the
    /// reference pass and the update) are timed.
    /// </summary>
    public static Command Grpo()
    {
        var model = Cli.Optional("--model", "Model folder", Path.Combine("data", "sample", "base-model")).ExistingFolder();
        var prompts = Cli.Optional("--prompts", "Prompts per step", 2).AtLeast(1);
        var group = Cli.Optional("--group-size", "Completions sampled per prompt", 4).AtLeast(2);
        var tokens = Cli.Optional("--max-new-tokens", "Longest completion", 32).AtLeast(1);
        var promptLength = Cli.Optional("--prompt-len", "Tokens per prompt", 32).AtLeast(1);
        var steps = Cli.Optional("--steps", "Timed GRPO steps", 3).AtLeast(1);
        var json = Cli.Optional("--json", "Print the figures as JSON", false);
        var command = new Command("grpo", "GRPO sampling: completions per second generated as a batch against one at a time, and steps per second");
        foreach (var o in new Option[] { model, prompts, group, tokens, promptLength, steps, json }) command.Options.Add(o);
        command.Handle(p =>
        {
            using var m = CausalLM.Load(p.GetValue(model)!, new LoadOptions { Device = "cpu" });
            m.AddLora(r: 8, alpha: 16, targets: ["all-linear"], dropout: 0, seed: 1);
            int n = p.GetValue(prompts), k = p.GetValue(group), maxNew = p.GetValue(tokens), len = p.GetValue(promptLength), timed = p.GetValue(steps);
            if (len + maxNew > m.Config.MaxPositions)
                throw new ArgumentException($"--prompt-len {len} plus --max-new-tokens {maxNew} exceed the model's {m.Config.MaxPositions} positions.");
            var rng = new Random(1);
            var batch = Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, len).Select(_ => (long)rng.Next(1, m.Config.VocabSize)).ToArray()).ToList();
            var replicated = batch.SelectMany(q => Enumerable.Repeat((IReadOnlyList<long>)q, k)).ToList();
            GenerationOptions Options(int seed) => new() { MaxNewTokens = maxNew, Temperature = 1.0, Seed = seed };

            m.Generate(replicated.Take(2).ToList(), Options(0));                                   // warm-up
            var sw = Stopwatch.StartNew();
            long batchedTokens = m.Generate(replicated, Options(1)).Sum(c => (long)c.Length);
            double batchedSeconds = sw.Elapsed.TotalSeconds;
            sw.Restart();
            long singleTokens = replicated.Select((q, i) => (long)m.Generate([q], Options(1 + i))[0].Length).Sum();
            double singleSeconds = sw.Elapsed.TotalSeconds;

            // a cheap reward in code (the share of distinct tokens), so that the steps time the trainer, not a scorer
            Func<long[], long[], double> reward = (_, c) => c.Length == 0 ? 0 : c.Distinct().Count() / (double)c.Length;
            GrpoTrainer Trainer(int count) => GrpoTrainer.For(m).Reward(reward).GroupSize(k).BatchSize(n).MaxNewTokens(maxNew).Steps(count).Seed(2);
            Trainer(1).Fit(batch);                                                                   // warm-up
            sw.Restart();
            Trainer(timed).Fit(batch);
            double stepSeconds = sw.Elapsed.TotalSeconds / timed;

            int completions = replicated.Count;
            var result = new JsonObject
            {
                ["completions_per_second_batched"] = Math.Round(completions / batchedSeconds, 2),
                ["completions_per_second_one_at_a_time"] = Math.Round(completions / singleSeconds, 2),
                ["speed_up"] = Math.Round(singleSeconds / batchedSeconds, 2),
                ["new_tokens_per_second_batched"] = Math.Round(batchedTokens / batchedSeconds, 1),
                ["new_tokens_per_second_one_at_a_time"] = Math.Round(singleTokens / singleSeconds, 1),
                ["mean_completion_tokens_batched"] = Math.Round(batchedTokens / (double)completions, 1),
                ["mean_completion_tokens_one_at_a_time"] = Math.Round(singleTokens / (double)completions, 1),
                ["grpo_steps_per_second"] = Math.Round(1 / stepSeconds, 3),
                ["grpo_completions_per_second"] = Math.Round(completions / stepSeconds, 2),
            };
            Console.WriteLine(p.GetValue(json) ? result.ToJsonString() : string.Join(", ", result.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value}"))));
            return 0;
        });
        return command;
    }
}
