using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Io;
using FineTune.Kit.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Kit.Training;

/// <summary>
/// Checkpoint folders `checkpoint-000100/`: the trainable tensors, the optimizer's moments, the best weights so far
/// (when early stopping), the loop state with the metrics history, and the trainer settings. Written atomically; the data position and
/// dropout seeds follow from the step, so a resumed run repeats exactly what an uninterrupted one does.
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
        AdamW optimizer, TrainingHistory history, TrainerSettings settings)
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
                ["history"] = JsonNode.Parse(history.ToJson()),
            };
            AtomicFile.WriteAllText(Path.Combine(tmp, SettingsFile), settings.ToJson());
            AtomicFile.WriteAllText(Path.Combine(tmp, "trainer_state.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        });
        foreach (var old in Directory.GetDirectories(directory, Prefix + "*").OrderBy(d => d, StringComparer.Ordinal).SkipLast(keep))
            Directory.Delete(old, recursive: true);
        return path;
    }

    private const string SettingsFile = "trainer_settings.json";

    /// <summary>The trainer settings a checkpoint was written with, or null for a checkpoint that predates them.</summary>
    public static TrainerSettings? SettingsOf(string checkpoint)
    {
        var path = Path.Combine(checkpoint, SettingsFile);
        return File.Exists(path) ? TrainerSettings.FromJson(File.ReadAllText(path), path) : null;
    }

    internal static LoopState Load(string path, IReadOnlyList<(string name, Parameter parameter)> trainable, AdamW optimizer, TrainingHistory history)
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
        history.Restore(TrainingHistory.FromJson(json["history"]!.ToJsonString()).Steps);
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
        return state;
    }
}
