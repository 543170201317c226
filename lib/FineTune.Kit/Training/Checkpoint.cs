using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Io;
using FineTune.Kit.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Kit.Training;

/// <summary>
/// Checkpoint folders `checkpoint-000100/`: the trainable tensors, the optimizer's moments, the best weights so far
/// (when early stopping), the loop state with the metrics history, the trainer settings and, for the preference objectives,
/// the objective's own settings. Written atomically; the data position and dropout (and sampling) seeds follow from the
/// step, so a resumed run repeats exactly what an uninterrupted one does.
/// </summary>
public static class Checkpoint
{
    private const string Prefix = "checkpoint-";

    /// <summary>The newest complete checkpoint folder under <paramref name="directory"/>, or null.</summary>
    public static string? Latest(string directory) =>
        Directory.Exists(directory)
            ? Directory.GetDirectories(directory, Prefix + "*")
                .Where(d => File.Exists(Path.Combine(d, "trainer_state.json")))
                .OrderBy(d => d, StringComparer.Ordinal).LastOrDefault()
            : null;

    internal static string Save(string directory, LoopState state, IReadOnlyList<(string name, Parameter parameter)> trainable,
        AdamW optimizer, TrainingHistory history, TrainerSettings settings) =>
        Save(directory, state, trainable, optimizer, JsonNode.Parse(history.ToJson())!, settings, objective: null);

    /// <summary>
    /// Writes a checkpoint of any training loop: <paramref name="history"/> is the loop's history as JSON, and
    /// <paramref name="objective"/> the objective's own settings (name first, then e.g. β or the group size), saved beside
    /// the trainer settings so that a resume with other values is refused (see <see cref="ResumeFrom"/>).
    /// </summary>
    internal static string Save(string directory, LoopState state, IReadOnlyList<(string name, Parameter parameter)> trainable,
        AdamW optimizer, JsonNode history, TrainerSettings settings, IReadOnlyList<KeyValuePair<string, string>>? objective)
    {
        int keep = settings.KeepCheckpoints;
        var path = Path.Combine(directory, $"{Prefix}{state.Step:D6}");
        AtomicFile.WriteDirectory(path, tmp =>
        {
            SafeTensorFile.Save(Path.Combine(tmp, "trainable.safetensors"),
                trainable.Select(p => new KeyValuePair<string, Tensor>(p.name, p.parameter)));
            SafeTensorFile.Save(Path.Combine(tmp, "optimizer.safetensors"), optimizer.StateTensors());
            if (state.Best is not null) SafeTensorFile.Save(Path.Combine(tmp, "best.safetensors"), state.Best);
            var json = new JsonObject
            {
                ["step"] = state.Step, ["optimizer_step"] = optimizer.Step, ["best_score"] = state.BestScore,
                ["best_step"] = state.BestStep, ["best_val_loss"] = state.BestValLoss, ["bad_evals"] = state.BadEvals,
                ["history"] = history.DeepClone(),
            };
            AtomicFile.WriteAllText(Path.Combine(tmp, SettingsFile), settings.ToJson());
            if (objective is not null)
                AtomicFile.WriteAllText(Path.Combine(tmp, ObjectiveFile), new JsonObject(objective.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)))
                    .ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            AtomicFile.WriteAllText(Path.Combine(tmp, "trainer_state.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        });
        foreach (var old in Directory.GetDirectories(directory, Prefix + "*").OrderBy(d => d, StringComparer.Ordinal).SkipLast(keep))
            Directory.Delete(old, recursive: true);
        return path;
    }

    private const string SettingsFile = "trainer_settings.json";
    private const string ObjectiveFile = "objective_settings.json";

    /// <summary>The objective of the supervised <see cref="Trainer"/>, whose checkpoints carry no objective settings.</summary>
    internal static readonly IReadOnlyList<KeyValuePair<string, string>> Sft = [KeyValuePair.Create("objective", "sft")];

    /// <summary>
    /// The objective a checkpoint was written by and its own settings (e.g. "objective": "dpo", "beta": "0.1"), in the
    /// order saved; a checkpoint of the supervised trainer gives just "objective": "sft".
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ObjectiveOf(string checkpoint)
    {
        var path = Path.Combine(checkpoint, ObjectiveFile);
        if (!File.Exists(path)) return Sft;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path))!.AsObject().Select(kv => KeyValuePair.Create(kv.Key, kv.Value!.GetValue<string>())).ToList();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException)
        {
            throw new DataFormatException($"{path}: expected a JSON object of setting names and string values: {e.Message}", e);
        }
    }

    /// <summary>
    /// The checkpoint a run resumes from: the newest in the checkpoint folder when <see cref="TrainerSettings.Resume"/> is
    /// on, or null to start at step 0. A checkpoint of another objective is refused; one written with other settings
    /// (trainer or objective) is refused naming both values, unless the resume is forced.
    /// </summary>
    internal static string? ResumeFrom(TrainerSettings now, IReadOnlyList<KeyValuePair<string, string>> objective)
    {
        if (!now.Resume || now.CheckpointDirectory is null || Latest(now.CheckpointDirectory) is not { } latest) return null;
        var saved = ObjectiveOf(latest).ToDictionary(kv => kv.Key, kv => kv.Value);
        string savedName = saved.GetValueOrDefault("objective", "none"), name = objective[0].Value;
        if (savedName != name)
            throw new KitException($"{latest} was written by the {savedName} objective, not {name}: resume with the same objective, or start in another checkpoint folder.");
        if (now.ForceResume) return latest;
        var conflicts = new List<string>();
        if (SettingsOf(latest) is { } settings) conflicts.AddRange(now.ResumeConflicts(settings));
        foreach (var (key, value) in objective.Skip(1))
            if (saved.GetValueOrDefault(key, "none") is var before && before != value) conflicts.Add($"{key}: checkpoint {before}, now {value}");
        if (conflicts.Count > 0)
            throw new KitException($"{latest} was written with other settings ({string.Join("; ", conflicts)}): resume with the same settings, or force the resume.");
        return latest;
    }

    /// <summary>What a divergence message says about checkpoints: the last good one, or how to keep some.</summary>
    internal static string LastGood(string? checkpoint) =>
        $"the last good checkpoint is {checkpoint ?? "none (use CheckpointEvery to keep some)"}";

    /// <summary>The trainer settings a checkpoint was written with, or null for a checkpoint that predates them.</summary>
    public static TrainerSettings? SettingsOf(string checkpoint)
    {
        var path = Path.Combine(checkpoint, SettingsFile);
        return File.Exists(path) ? TrainerSettings.FromJson(File.ReadAllText(path), path) : null;
    }

    internal static LoopState Load(string path, IReadOnlyList<(string name, Parameter parameter)> trainable, AdamW optimizer, TrainingHistory history)
    {
        var (state, saved) = Restore(path, trainable, optimizer);
        history.Restore(TrainingHistory.FromJson(saved.ToJsonString()).Steps);
        return state;
    }

    /// <summary>
    /// Copies a checkpoint's trainable tensors into the model and its moments into the optimizer, and returns the loop
    /// state with the saved history as JSON (each loop reads its own history type from it).
    /// </summary>
    internal static (LoopState State, JsonNode History) Restore(string path, IReadOnlyList<(string name, Parameter parameter)> trainable, AdamW optimizer)
    {
        var weights = SafeTensorFile.Open(Path.Combine(path, "trainable.safetensors"));
        var names = trainable.Select(p => p.name).ToHashSet();
        if (!names.SetEquals(weights.Entries.Keys))
            throw new KitException($"{path}: the checkpoint trains [{string.Join(", ", weights.Entries.Keys.Except(names).Take(3))}…] but this model trains [{string.Join(", ", names.Except(weights.Entries.Keys).Take(3))}…]; resume with the same adapter settings.");
        using (no_grad())
            foreach (var (name, p) in trainable)
            {
                using var t = weights.Read(name);
                if (!t.shape.SequenceEqual(p.shape))
                    throw new KitException($"{path}: '{name}' has shape [{string.Join(", ", t.shape)}] in the checkpoint but [{string.Join(", ", p.shape)}] in the model.");
                p.copy_(t);
            }
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(path, "trainer_state.json")))!.AsObject();
        var opt = SafeTensorFile.Open(Path.Combine(path, "optimizer.safetensors"));
        optimizer.LoadState(json["optimizer_step"]!.GetValue<long>(), key => opt.Entries.ContainsKey(key) ? opt.Read(key) : null);
        var state = new LoopState
        {
            Step = json["step"]!.GetValue<int>(), BestScore = json["best_score"]?.GetValue<double>(),
            BestStep = json["best_step"]?.GetValue<int>(), BestValLoss = json["best_val_loss"]?.GetValue<double>(),
            BadEvals = json["bad_evals"]!.GetValue<int>(),
        };
        var bestPath = Path.Combine(path, "best.safetensors");
        if (File.Exists(bestPath))
        {
            var best = SafeTensorFile.Open(bestPath);
            state.Best = best.Entries.Keys.ToDictionary(k => k, k => best.Read(k).DetachFromDisposeScope());
        }
        return (state, json["history"]!);
    }
}
