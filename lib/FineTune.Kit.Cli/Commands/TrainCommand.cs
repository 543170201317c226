using System.CommandLine;
using System.Diagnostics;
using FineTune.Kit.Data;
using FineTune.Kit.Evaluation;
using FineTune.Kit.Io;
using FineTune.Kit.Lora;
using FineTune.Kit.Prompting;
using FineTune.Kit.Training;

namespace FineTune.Kit.Cli.Commands;

/// <summary>
/// `ftk train`: LoRA (default) or full fine-tuning on any JSONL shape; writes the adapter (or model) and history.json.
/// Text rows with a label train a classifier: each text is rendered with the prompt options, the loss counts only the
/// label's tokens, and the prompt is saved as prompt.json beside the adapter so that `ftk compare` prompts the same way.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var data = Cli.Required<string>("--data", "Training JSONL (text, text + label for a classifier, prompt/completion or messages), or a folder with train.jsonl [+ validation.jsonl]");
        var output = Cli.Required<string>("--out", "Folder for the adapter (or the full model with --full) and history.json").FolderToWrite();
        var r = Cli.Optional("--lora-r", "LoRA rank", 8).AtLeast(1);
        var alpha = Cli.Optional("--lora-alpha", "LoRA alpha", 16.0).Positive();
        var dropout = Cli.Optional("--lora-dropout", "LoRA dropout", 0.05).Between(0, 1, maxOpen: true);
        var targets = Cli.Optional("--targets", "Modules to adapt, comma separated, or all-linear", "q_proj,v_proj");
        var full = Cli.Optional("--full", "Full fine-tuning instead of LoRA", false);
        var t = new TrainingOptions();
        var resume = Cli.Optional("--resume", "Continue from the newest checkpoint in OUT/checkpoints", false);
        var prompt = new PromptOptions();
        var command = new Command("train", "Fine-tune a model with LoRA or in full");
        foreach (var o in new Option[] { m.Model, m.Device, data, output, r, alpha, dropout, targets, full, t.Steps, t.Epochs,
                     t.LearningRate, t.BatchSize, t.GradientAccumulation, t.SeqLen, t.Seed, resume })
            command.Options.Add(o);
        foreach (var o in prompt.All) command.Options.Add(o);
        var objectives = new TrainObjectives();
        foreach (var o in objectives.All) command.Options.Add(o);
        var memory = new MemoryOptions();
        foreach (var o in memory.All) command.Options.Add(o);
        memory.Check(command, full, objectives.Objective);
        command.Validators.Add(c =>
        {
            if (c.GetResult(t.Steps) is { Implicit: false } && c.GetResult(t.Epochs) is { Implicit: false })
                c.AddError("give --steps or --epochs, not both");
        });
        command.Handle(parse =>
        {
            var objective = objectives.Chosen(parse);
            var outDir = parse.GetValue(output)!;
            var checkpoints = CheckpointFolder(outDir);
            if (parse.GetValue(resume) && !HasCheckpoint(checkpoints))
                Cli.Note(parse, $"--resume: no checkpoint in {checkpoints}, so training starts from step 0");
            if (objective != "sft")
                return objectives.Run(parse, new(m, data, output, r, alpha, dropout, targets, full, t.Steps, t.Epochs, t.LearningRate, t.BatchSize, t.SeqLen, t.Seed, resume, memory));
            // the data is read and checked before the model loads, so a bad file fails fast
            var (trainData, valData) = LoadData(parse.GetValue(data)!);
            string trainPath = trainData.Source!, valPath = valData?.Source!;
            if (trainData.Count == 0)
                throw new DataFormatException($"{trainPath}: the file has no rows; expected JSON Lines with \"text\" (and \"label\"), \"prompt\" and \"completion\", or \"messages\"");
            if (trainData.Shape == DatasetShape.Unknown)
                throw new DataFormatException($"{trainPath}:{trainData.Rows[0].Line}: the row has the fields {string.Join(", ", trainData.Rows[0].Columns)}; " +
                                              "expected \"text\" (and \"label\"), \"prompt\" and \"completion\", or \"messages\"");
            PromptTemplate? template = null;
            List<LabeledExample>? trainRows = ClassificationRows(trainData, trainPath), valRows = null;
            if (trainRows is not null)
            {
                valRows = valData is null ? null : ValidationRows(valData, valPath!);
                var labels = trainRows.Concat(valRows ?? []).Select(e => e.Label).Distinct().Order(StringComparer.Ordinal).ToArray();
                try
                {
                    template = prompt.Build(parse, labels);
                }
                catch (LabelCollisionException e)
                {
                    // name where each spelling occurs, so that the data can be fixed (or curated: `ftk curate` unifies spellings)
                    string Where(string label) => FirstLine(trainRows, trainData, trainPath, label) ?? FirstLine(valRows, valData, valPath, label) ?? "?";
                    throw new DataFormatException($"{e.Message} ('{e.First}' first at {Where(e.First)}, '{e.Second}' at {Where(e.Second)}); " +
                                                  "use one spelling per label (`ftk curate` unifies them) or --labels-as identity");
                }
                Console.WriteLine($"classification: {labels.Length} labels, loss on the label tokens only; {PromptOptions.Describe(template)}");
            }
            else if (prompt.AnyGiven(parse))
                Console.Error.WriteLine($"ftk train: note: {trainPath} has no text + label rows, so the prompt options are not used");
            using var model = m.Load(parse);
            var tok = model.RequireTokenizer();
            var train = template is null ? SftData.FromDataset(trainData, tok) : SftData.Classification(trainRows!, template, tok);
            var val = valData is null ? null
                : template is null ? SftData.FromDataset(valData, tok) : SftData.Classification(valRows!, template, tok);
            LoraAdapter? adapter = null;
            if (parse.GetValue(full)) model.UnfreezeAll();
            else adapter = model.AddLora(parse.GetValue(r), parse.GetValue(alpha),
                parse.GetValue(targets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                parse.GetValue(dropout), seed: parse.GetValue(t.Seed));
            Console.WriteLine(adapter?.Summary() ?? $"full fine-tuning: {model.TrainableParameterCount:N0} parameters");
            memory.Apply(parse, model);
            var trainer = Trainer.For(model).LearningRate(parse.GetValue(t.LearningRate)).BatchSize(parse.GetValue(t.BatchSize))
                .GradientAccumulation(parse.GetValue(t.GradientAccumulation)).MaxSequenceLength(parse.GetValue(t.SeqLen)).Seed(parse.GetValue(t.Seed))
                .CheckpointEvery(CheckpointEvery, checkpoints).Resume(parse.GetValue(resume)).Packing(parse.GetValue(memory.Packing));
            if (parse.GetValue(t.Steps) is { } s) trainer.Steps(s); else trainer.Epochs(parse.GetValue(t.Epochs) ?? 1);
            if (val is { Count: > 0 }) trainer.EvaluateEvery(Math.Max(1, trainer.TotalSteps(train) / 5));
            TrainingRun? run = null;
            Progress.Run(adapter is null ? "full fine-tuning" : $"LoRA r={parse.GetValue(r)}", trainer.TotalSteps(train),
                report => run = trainer.OnStep(report).Fit(train, val));
            if (run!.ExamplesWithoutLossTokens > 0)
                Console.Error.WriteLine($"ftk train: note: {run.ExamplesWithoutLossTokens} examples had no token left to learn from " +
                                        $"after cutting to --seq-len {parse.GetValue(t.SeqLen)} and were left out");
            if (adapter is not null) adapter.Save(outDir);
            else model.Save(outDir);
            if (template is not null) PromptFile.Save(template, outDir);
            AtomicFile.WriteAllText(Path.Combine(outDir, "history.json"), run.History.ToJson());
            AtomicFile.WriteAllText(Path.Combine(outDir, "trainer_settings.json"), trainer.Settings.ToJson());
            Console.WriteLine($"{run.Steps} steps in {run.Elapsed.TotalSeconds:F0} s, final loss {run.History.Steps[^1].Loss:F4}; " +
                              $"wrote {Path.GetFullPath(outDir)}{(template is null ? "" : $" (with {PromptFile.FileName})")}");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The rows as labelled examples when they are text rows that all have a label; null when no row has one (or the
    /// rows are of another shape). Some rows with a label and some without is an error naming the first without.
    /// </summary>
    private static List<LabeledExample>? ClassificationRows(Dataset data, string file)
    {
        if (data.Shape != DatasetShape.Text) return null;
        var rows = data.AsText();
        var labelled = rows.FirstOrDefault(HasLabel);
        if (labelled is null) return null;
        if (rows.FirstOrDefault(r => !HasLabel(r)) is { } missing)
            throw new DataFormatException($"{file}:{missing.Line}: the row has no \"label\", but line {labelled.Line} has one; " +
                                          "label every row to train a classifier, or none to train on the text alone");
        return rows.Select(r => new LabeledExample(r.Text, r.Label!)).ToList();
    }

    /// <summary>Validation rows for a classifier: every row needs a text and a label.</summary>
    private static List<LabeledExample> ValidationRows(Dataset data, string file)
    {
        if (data.Count == 0) return [];
        if (ClassificationRows(data, file) is { } rows) return rows;
        var first = data.Rows[0].Line;
        throw new DataFormatException(data.Shape == DatasetShape.Text
            ? $"{file}:{first}: the row has no \"label\"; the training rows are labelled, so every validation row needs one too"
            : $"{file}:{first}: expected a \"text\" and \"label\" row like the training rows (found {data.Shape})");
    }

    /// <summary>"file:line" of the first row with <paramref name="label"/>, or null.</summary>
    private static string? FirstLine(List<LabeledExample>? rows, Dataset? data, string? file, string label)
    {
        if (rows is null || data is null) return null;
        var i = rows.FindIndex(r => r.Label == label);
        return i < 0 ? null : $"{file}:{data.Rows[i].Line}";
    }

    private static bool HasCheckpoint(string dir) => Checkpoint.Latest(dir) is not null;

    /// <summary>Steps between the checkpoints every objective writes into OUT/checkpoints (and after the last step).</summary>
    internal const int CheckpointEvery = 100;

    /// <summary>Where `ftk train` keeps checkpoints for --resume.</summary>
    internal static string CheckpointFolder(string outDir) => Path.Combine(outDir, "checkpoints");

    private static bool HasLabel(TextRow row) => !string.IsNullOrWhiteSpace(row.Label);

    // a file; a folder with train.jsonl [+ validation.jsonl]; or a Hugging Face dataset folder (train [+ validation] split)
    private static (Dataset Train, Dataset? Validation) LoadData(string path)
    {
        if (File.Exists(path)) return (Dataset.Load(path), null);
        if (!Directory.Exists(path)) throw new FileNotFoundException($"--data: {path} is neither a file nor a folder.");
        var train = Path.Combine(path, "train.jsonl");
        var val = Path.Combine(path, "validation.jsonl");
        if (File.Exists(train)) return (Dataset.Load(train), File.Exists(val) ? Dataset.Load(val) : null);
        var hub = DatasetDict.FromFolder(path);
        if (!hub.Contains("train"))
            throw new FileNotFoundException($"--data: {path} has no train.jsonl and no train split (it has {string.Join(", ", hub.Splits)}).");
        return (hub["train"], hub.Contains("validation") ? hub["validation"] : null);
    }
}
