using System.CommandLine;
using FineTune.Kit.Data;
using FineTune.Kit.Io;
using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Preferences;
using FineTune.Kit.Training;

namespace FineTune.Kit.Cli.Commands;

/// <summary>The options of `ftk train` that the preference and RL objectives read (owned by the train command).</summary>
internal sealed record TrainOptionSet(ModelOptions Model, Option<string> Data, Option<string> Out, Option<int> LoraR, Option<double> LoraAlpha,
    Option<double> LoraDropout, Option<string> Targets, Option<bool> Full, Option<int?> Steps, Option<int?> Epochs, Option<double> Lr,
    Option<int> BatchSize, Option<int> SeqLen, Option<int> Seed, Option<bool> Resume, MemoryOptions Memory);

/// <summary>
/// `ftk train --objective sft|reward|dpo|grpo`: sft is the supervised loop; reward trains a reward model (LoRA plus
/// the score head, Bradley–Terry loss), dpo tunes the policy on preference rows, grpo samples completions of prompt
/// rows and reinforces the ones a reward model scores higher. history.json holds each objective's per-step figures.
/// Every objective checkpoints into OUT/checkpoints as sft does, and --resume continues from the newest checkpoint
/// (refusing one written by another objective or with other settings, naming both values).
/// </summary>
internal sealed class TrainObjectives
{
    private static readonly string[] Names = ["sft", "reward", "dpo", "grpo"];

    public Option<string> Objective { get; } = Cli.Optional("--objective", "sft (supervised, default), reward, dpo or grpo", "sft");
    public Option<double> Beta { get; } = Cli.Optional("--beta", "DPO: β, how far the policy may move from the reference", 0.1);
    public Option<string> Loss { get; } = Cli.Optional("--loss", "DPO: sigmoid or ipo", "sigmoid");
    public Option<string?> RewardModel { get; } = new("--reward-model") { Description = "GRPO: a reward model folder (*ForSequenceClassification, or a reward adapter for --model)" };
    public Option<string?> Reward { get; } = new("--reward") { Description = "GRPO: a reward function by name: relevance (the sample's reply-relevance judge; a prompt row's \"label\" names its intent, otherwise the judge reads it from the prompt)" };
    public Option<int> GroupSize { get; } = Cli.Optional("--group-size", "GRPO: completions sampled per prompt", 4);
    public Option<double> Kl { get; } = Cli.Optional("--kl", "GRPO: KL penalty coefficient", 0.05);
    public Option<int> MaxNewTokens { get; } = Cli.Optional("--max-new-tokens", "GRPO: longest completion", 64);

    public IEnumerable<Option> All => [Objective, Beta, Loss, RewardModel, Reward, GroupSize, Kl, MaxNewTokens];

    /// <summary>The objective named on the command line, checked.</summary>
    public string Chosen(ParseResult parse)
    {
        var name = parse.GetValue(Objective)!;
        return Names.Contains(name) ? name : throw new ArgumentException($"--objective: '{name}' is not one of {string.Join(", ", Names)}.");
    }

    /// <summary>Runs the reward, dpo or grpo objective.</summary>
    public int Run(ParseResult parse, TrainOptionSet o)
    {
        var objective = Chosen(parse);
        if (parse.GetValue(o.Full)) throw new ArgumentException($"--full: the {objective} objective trains a LoRA adapter (the model without it is the reference), not the whole model.");
        double beta = parse.GetValue(Beta), kl = parse.GetValue(Kl);
        if (!(beta > 0)) throw new ArgumentException($"--beta: {beta} must be positive.");
        var loss = parse.GetValue(Loss) switch
        {
            "sigmoid" => DpoLossKind.Sigmoid,
            "ipo" => DpoLossKind.Ipo,
            var other => throw new ArgumentException($"--loss: '{other}' is not sigmoid or ipo."),
        };
        if (parse.GetValue(GroupSize) < 2) throw new ArgumentException($"--group-size: {parse.GetValue(GroupSize)} must be at least 2.");
        if (!(kl >= 0)) throw new ArgumentException($"--kl: {kl} must be 0 or more.");
        if (parse.GetValue(MaxNewTokens) < 1) throw new ArgumentException($"--max-new-tokens: {parse.GetValue(MaxNewTokens)} must be at least 1.");
        if (parse.GetValue(Reward) is { } fn && fn != "relevance")
            throw new ArgumentException($"--reward: '{fn}' is not a known reward function (relevance).");
        if (objective == "grpo" && parse.GetValue(RewardModel) is null && parse.GetValue(Reward) is null)
            throw new ArgumentException("--objective grpo needs a reward: give --reward-model DIR and/or --reward relevance.");

        var dataPath = parse.GetValue(o.Data)!;
        if (Directory.Exists(dataPath) && File.Exists(Path.Combine(dataPath, "train.jsonl"))) dataPath = Path.Combine(dataPath, "train.jsonl"); // else a Hub folder's train split
        var rows = Dataset.Load(dataPath);          // read and checked before the model loads
        var outDir = parse.GetValue(o.Out)!;
        using var model = o.Model.Load(parse);
        var tok = model.RequireTokenizer();
        RewardModel? reward = objective == "reward" ? Preferences.RewardModel.Attach(model, parse.GetValue(o.Seed)) : null;
        var adapter = model.AddLora(parse.GetValue(o.LoraR), parse.GetValue(o.LoraAlpha),
            parse.GetValue(o.Targets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            parse.GetValue(o.LoraDropout), modulesToSave: reward is null ? null : [Preferences.RewardModel.HeadName], seed: parse.GetValue(o.Seed));
        Console.WriteLine($"{objective}: {adapter.Summary()}");
        o.Memory.Apply(parse, model);

        PreferenceRun run;
        int total;
        if (objective == "grpo")
        {
            var promptRows = PromptRows(rows, dataPath);
            var prompts = promptRows.Select(p => tok.Encode(p.Prompt).Select(i => (long)i).ToArray()).ToList();
            using var scorer = parse.GetValue(RewardModel) is { } rmDir ? LoadRewardModel(rmDir, parse.GetValue(o.Model.Model)!, parse.GetValue(o.Model.Device)!, model) : null;
            var trainer = Configure(GrpoTrainer.For(model), parse, o).GroupSize(parse.GetValue(GroupSize)).Kl(kl).MaxNewTokens(parse.GetValue(MaxNewTokens));
            if (scorer is not null) trainer.RewardModel(Preferences.RewardModel.Attach(scorer));
            if (parse.GetValue(Reward) is not null) trainer.Reward(RelevanceReward(promptRows, prompts, tok));
            total = parse.GetValue(o.Steps) ?? trainer.TotalSteps(prompts.Count);
            run = WithProgress(objective, total, trainer, t => t.Fit(prompts));
        }
        else
        {
            var pairs = PreferenceData.From(rows, tok, parse.GetValue(o.SeqLen));
            if (pairs.Truncated.Count > 0) Console.Error.WriteLine($"ftk train: note: {pairs.Summary()}");
            if (reward is not null)
            {
                var trainer = Configure(reward.Trainer(), parse, o);
                run = WithProgress(objective, trainer.TotalSteps(pairs.Count), trainer, t => t.Fit(pairs));
            }
            else
            {
                var trainer = Configure(DpoTrainer.For(model), parse, o).Beta(beta).Loss(loss);
                run = WithProgress(objective, trainer.TotalSteps(pairs.Count), trainer, t => t.Fit(pairs));
            }
        }
        adapter.Save(outDir);
        AtomicFile.WriteAllText(Path.Combine(outDir, "history.json"), run.History.ToJson());
        if (reward is not null)
        {
            // the merged model in the Hugging Face *ForSequenceClassification layout, for --reward-model and other tools
            adapter.MergeAndUnload();
            reward.SaveForSequenceClassification(Path.Combine(outDir, "sequence-classification"));
        }
        var last = run.History.Steps[^1];
        Console.WriteLine($"{run.Steps} steps in {run.Elapsed.TotalSeconds:F0} s, final loss {last.Loss:F4}" +
                          $"{string.Concat(last.Values.Take(4).Select(kv => $", {kv.Key} {kv.Value:F4}"))}; wrote {Path.GetFullPath(outDir)}");
        return 0;
    }

    // checkpoints go where the sft objective puts them, so --resume reads the same folder for every objective
    private static T Configure<T>(T trainer, ParseResult parse, TrainOptionSet o) where T : PreferenceTrainerBase<T>
    {
        trainer.LearningRate(parse.GetValue(o.Lr)).BatchSize(parse.GetValue(o.BatchSize)).Seed(parse.GetValue(o.Seed))
            .CheckpointEvery(TrainCommand.CheckpointEvery, TrainCommand.CheckpointFolder(parse.GetValue(o.Out)!)).Resume(parse.GetValue(o.Resume));
        if (parse.GetValue(o.Steps) is { } s) trainer.Steps(s); else trainer.Epochs(parse.GetValue(o.Epochs) ?? 1);
        return trainer;
    }

    private static PreferenceRun WithProgress<T>(string objective, int total, T trainer, Func<T, PreferenceRun> fit) where T : PreferenceTrainerBase<T>
    {
        PreferenceRun? run = null;
        Progress.Run(objective, total, report => run = fit(trainer.OnStep(s => report(new StepMetrics { Step = s.Step, Loss = s.Loss, Lr = s.Lr, GradNorm = s.GradNorm }))));
        return run!;
    }

    private static List<(string Prompt, string? Label)> PromptRows(Dataset rows, string file) =>
        rows.Rows.Select(r => r.Fields["prompt"] is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0
            ? (s, r.Fields["label"] is System.Text.Json.Nodes.JsonValue l && l.TryGetValue<string>(out var label) ? label : null)
            : throw new DataFormatException($"{file}:{r.Line}: expected a non-empty string \"prompt\" (grpo samples completions of prompt rows)")).ToList();

    /// <summary>
    /// The sample's reply-relevance judge as a reward: the prompt is the ticket, the completion the reply; a row's
    /// "label" is the ticket's intent (checked against the judge's intents here, before training starts).
    /// </summary>
    private static Func<long[], long[], double> RelevanceReward(List<(string Prompt, string? Label)> rows, List<long[]> prompts, Text.TextTokenizer tok)
    {
        var judge = Sample.SampleJudge.Relevance();
        var intents = new Dictionary<string, (string Ticket, string? Intent)>();
        for (int i = 0; i < rows.Count; i++)
        {
            if (rows[i].Label is { } label && !judge.Intents.Contains(label))
                throw new ArgumentException($"--reward relevance: prompt row {i + 1} has the label '{label}', which is not one of the judge's intents ({string.Join(", ", judge.Intents)}).");
            intents[string.Join(",", prompts[i])] = (rows[i].Prompt, rows[i].Label);
        }
        return (prompt, completion) =>
        {
            var (ticket, intent) = intents[string.Join(",", prompt)];
            return judge.Score(ticket, tok.Decode(completion.Select(i => (int)i), skipSpecialTokens: true), intent).Score;
        };
    }

    /// <summary>A reward model folder: *ForSequenceClassification weights, or a reward adapter (with the score head) for the base model.</summary>
    private static CausalLM LoadRewardModel(string dir, string baseDir, string device, CausalLM policy)
    {
        CausalLM scorer;
        if (File.Exists(Path.Combine(dir, "adapter_config.json")))
        {
            scorer = PreferenceModels.Load(baseDir, dir, device, out var head);
            if (head is null) { scorer.Dispose(); throw new ArgumentException($"--reward-model: the adapter in {dir} has no score head (modules_to_save does not name \"score\")."); }
        }
        else scorer = Preferences.RewardModel.LoadForSequenceClassification(dir, new LoadOptions { Device = device }).Model;
        if (scorer.Config.VocabSize != policy.Config.VocabSize)
        {
            scorer.Dispose();
            throw new ArgumentException($"--reward-model: {dir} has a vocabulary of {scorer.Config.VocabSize} tokens but the policy has {policy.Config.VocabSize}; the reward model must share the policy's tokenizer.");
        }
        return scorer;
    }
}
