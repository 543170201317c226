using System.CommandLine;
using System.Diagnostics;
using FineTune.Kit.Data;
using FineTune.Kit.Io;
using FineTune.Kit.Lora;
using FineTune.Kit.Training;

namespace FineTune.Kit.Cli.Commands;

/// <summary>
/// `ftk train`: LoRA (default) or full fine-tuning on any JSONL shape; writes the adapter (or model) and history.json.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var data = Cli.Required<string>("--data", "Training JSONL (text, prompt/completion or messages), or a folder with train.jsonl [+ validation.jsonl]");
        var output = Cli.Required<string>("--out", "Folder for the adapter (or the full model with --full) and history.json");
        var r = Cli.Optional("--lora-r", "LoRA rank", 8);
        var alpha = Cli.Optional("--lora-alpha", "LoRA alpha", 16.0);
        var dropout = Cli.Optional("--lora-dropout", "LoRA dropout", 0.05);
        var targets = Cli.Optional("--targets", "Modules to adapt, comma separated, or all-linear", "q_proj,v_proj");
        var full = Cli.Optional("--full", "Full fine-tuning instead of LoRA", false);
        var steps = new Option<int?>("--steps") { Description = "Optimizer steps" };
        var epochs = new Option<int?>("--epochs") { Description = "Passes over the data (default 1)" };
        var lr = Cli.Optional("--lr", "Peak learning rate", 2e-4);
        var batch = Cli.Optional("--batch-size", "Examples per micro-batch", 8);
        var accum = Cli.Optional("--grad-accum", "Micro-batches per step", 1);
        var seqLen = Cli.Optional("--seq-len", "Longest sequence", 256);
        var seed = Cli.Optional("--seed", "Seed", 1L);
        var resume = Cli.Optional("--resume", "Continue from the newest checkpoint in OUT/checkpoints", false);
        var command = new Command("train", "Fine-tune a model with LoRA or in full");
        foreach (var o in new Option[] { m.Model, m.Device, data, output, r, alpha, dropout, targets, full, steps, epochs, lr, batch, accum, seqLen, seed, resume })
            command.Options.Add(o);
        command.Handle(parse =>
        {
            var outDir = parse.GetValue(output)!;
            var (trainPath, valPath) = ResolveData(parse.GetValue(data)!);
            using var model = m.Load(parse);
            var tok = model.RequireTokenizer();
            var train = SftData.FromDataset(Dataset.Load(trainPath), tok);
            var val = valPath is null ? null : SftData.FromDataset(Dataset.Load(valPath), tok);
            LoraAdapter? adapter = null;
            if (parse.GetValue(full)) model.UnfreezeAll();
            else adapter = model.AddLora(parse.GetValue(r), parse.GetValue(alpha),
                parse.GetValue(targets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                parse.GetValue(dropout), seed: parse.GetValue(seed));
            Console.WriteLine(adapter?.Summary() ?? $"full fine-tuning: {model.TrainableParameterCount:N0} parameters");
            var trainer = Trainer.For(model).LearningRate(parse.GetValue(lr)).BatchSize(parse.GetValue(batch))
                .GradientAccumulation(parse.GetValue(accum)).MaxSequenceLength(parse.GetValue(seqLen)).Seed(parse.GetValue(seed))
                .CheckpointEvery(100, Path.Combine(outDir, "checkpoints")).Resume(parse.GetValue(resume));
            if (parse.GetValue(steps) is { } s) trainer.Steps(s); else trainer.Epochs(parse.GetValue(epochs) ?? 1);
            if (val is { Count: > 0 }) trainer.EvaluateEvery(Math.Max(1, trainer.TotalSteps(train.Count) / 5));
            TrainingRun? run = null;
            Progress.Run(adapter is null ? "full fine-tuning" : $"LoRA r={parse.GetValue(r)}", trainer.TotalSteps(train.Count),
                report => run = trainer.OnStep(report).Fit(train, val));
            if (adapter is not null) adapter.Save(outDir);
            else model.Save(outDir);
            AtomicFile.WriteAllText(Path.Combine(outDir, "history.json"), run!.History.ToJson());
            Console.WriteLine($"{run.Steps} steps in {run.Elapsed.TotalSeconds:F0} s, final loss {run.History.Steps[^1].Loss:F4}; wrote {Path.GetFullPath(outDir)}");
            return 0;
        });
        return command;
    }

    private static (string Train, string? Validation) ResolveData(string path)
    {
        if (File.Exists(path)) return (path, null);
        if (!Directory.Exists(path)) throw new FileNotFoundException($"--data: {path} is neither a file nor a folder.");
        var train = Path.Combine(path, "train.jsonl");
        if (!File.Exists(train)) throw new FileNotFoundException($"--data: {path} has no train.jsonl.");
        var val = Path.Combine(path, "validation.jsonl");
        return (train, File.Exists(val) ? val : null);
    }
}
