using System.Diagnostics;
using FineTune.Kit.Models;
using FineTune.Kit.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Kit.Preferences;

/// <summary>The outcome of a preference or RL run.</summary>
public sealed record PreferenceRun
{
    /// <summary>Per-step figures.</summary>
    public required PreferenceHistory History { get; init; }
    /// <summary>Optimizer steps taken.</summary>
    public required int Steps { get; init; }
    /// <summary>Wall time of this call.</summary>
    public required TimeSpan Elapsed { get; init; }
    /// <summary>The newest checkpoint folder written or resumed from, if any.</summary>
    public string? LastCheckpoint { get; init; }
}

/// <summary>
/// Settings every preference and RL trainer shares (learning rate, steps, batch, schedule, clipping, seed, checkpoints),
/// set fluently, and the loop that runs them with the Training stage's <see cref="AdamW"/>, <see cref="LrSchedule"/>
/// and <see cref="Checkpoint"/> folders. A checkpoint holds the trainable tensors (a LoRA adapter, and a reward head
/// trained with it), the optimizer's moments, the history, the trainer settings and the objective's own settings; the
/// data order, dropout and sampling seeds follow from the step, so a resumed run ends with the same weights as an
/// uninterrupted one.
/// </summary>
/// <typeparam name="TSelf">The concrete trainer, so each setting returns it.</typeparam>
public abstract class PreferenceTrainerBase<TSelf> where TSelf : PreferenceTrainerBase<TSelf>
{
    private protected readonly CausalLM Model;
    private protected double LearningRateValue = 5e-5, WeightDecayValue;
    private protected int? EpochsValue, StepsValue;
    private protected int BatchSizeValue = 4, WarmupValue;
    private protected LrScheduleKind ScheduleValue = LrScheduleKind.Linear;
    private protected double? ClipValue = 1.0;
    private protected int SeedValue = Seeds.Default;
    private protected int CheckpointEveryValue, KeepCheckpointsValue = 2;
    private protected string? CheckpointDirectoryValue;
    private protected bool ResumeValue, ForceResumeValue;
    private Action<PreferenceStep>? _onStep;

    private protected PreferenceTrainerBase(CausalLM model) => Model = model;

    private TSelf Self => (TSelf)this;

    /// <summary>
    /// Takes the shared settings of a <see cref="TrainerSettings"/> (learning rate, epochs or steps, batch size, weight
    /// decay, schedule and warm-up, clipping, seed, checkpoints and resume). Settings this loop does not have are refused
    /// by name rather than ignored: accumulation, evaluation, early stopping and packing. The sequence length limit
    /// belongs to the preference data (<c>PreferenceData.From</c>).
    /// </summary>
    internal TSelf Settings(TrainerSettings s)
    {
        var defaults = new TrainerSettings();
        var unsupported = new List<string>();
        if (s.GradientAccumulation != defaults.GradientAccumulation) unsupported.Add("GradientAccumulation");
        if (s.EvaluateEvery != defaults.EvaluateEvery) unsupported.Add("EvaluateEvery");
        if (s.Patience != defaults.Patience) unsupported.Add("Patience");
        if (s.Packing) unsupported.Add("Packing");
        if (unsupported.Count > 0)
            throw new ArgumentException($"{typeof(TSelf).Name} does not support {string.Join(", ", unsupported)} (set on the Trainer); preference and RL runs have no such setting.");
        LearningRate(s.LearningRate);
        if (s.Steps is { } steps) Steps(steps);
        else if (s.Epochs is { } epochs) Epochs(epochs);
        BatchSize(s.BatchSize);
        WeightDecay(s.WeightDecay);
        Schedule(s.Schedule, s.WarmupSteps);
        ClipGradNorm(s.ClipGradNorm);
        if (s.CheckpointDirectory is { } dir) CheckpointEvery(s.CheckpointEvery, dir, s.KeepCheckpoints);
        Resume(s.Resume, s.ForceResume);
        return Seed(s.Seed);
    }

    /// <summary>Peak learning rate (positive).</summary>
    public TSelf LearningRate(double lr) { LearningRateValue = Positive(lr, "learning rate"); return Self; }
    /// <summary>Whole passes over the data.</summary>
    public TSelf Epochs(int epochs) { EpochsValue = AtLeastOne(epochs, "epochs"); StepsValue = null; return Self; }
    /// <summary>A number of optimizer steps.</summary>
    public TSelf Steps(int steps) { StepsValue = AtLeastOne(steps, "steps"); EpochsValue = null; return Self; }
    /// <summary>Pairs (or prompts) per step.</summary>
    public TSelf BatchSize(int size) { BatchSizeValue = AtLeastOne(size, "batch size"); return Self; }
    /// <summary>Decoupled weight decay (not applied to biases and norms).</summary>
    public TSelf WeightDecay(double wd) { WeightDecayValue = wd >= 0 ? wd : throw new ArgumentOutOfRangeException(nameof(wd), wd, "Weight decay must be 0 or more."); return Self; }
    /// <summary>Learning-rate schedule and linear warm-up.</summary>
    public TSelf Schedule(LrScheduleKind kind, int warmupSteps = 0) { ScheduleValue = kind; WarmupValue = Math.Max(0, warmupSteps); return Self; }
    /// <summary>Clip the global gradient norm (null: no clipping).</summary>
    public TSelf ClipGradNorm(double? maxNorm) { ClipValue = maxNorm is { } m ? Positive(m, "gradient clipping norm") : null; return Self; }
    /// <summary>Seed of data order, dropout and sampling.</summary>
    public TSelf Seed(int seed) { SeedValue = seed; return Self; }
    /// <summary>
    /// Write a checkpoint every <paramref name="steps"/> steps (1 or more) and after the last into
    /// <paramref name="directory"/>, keeping the newest <paramref name="keep"/> (1 or more).
    /// </summary>
    public TSelf CheckpointEvery(int steps, string directory, int keep = 2)
    {
        if (string.IsNullOrWhiteSpace(directory)) throw new ArgumentException("CheckpointEvery needs a checkpoint folder.", nameof(directory));
        CheckpointEveryValue = TrainerSettings.AtLeast("CheckpointEvery", steps, 1);
        KeepCheckpointsValue = TrainerSettings.AtLeast("CheckpointEvery keep", keep, 1);
        CheckpointDirectoryValue = directory;
        return Self;
    }
    /// <summary>
    /// Continue from the newest checkpoint in the checkpoint folder, if there is one. A checkpoint of another objective
    /// is refused; one written with other settings (learning rate, β, group size, ...) is refused naming both values,
    /// unless <paramref name="force"/>.
    /// </summary>
    public TSelf Resume(bool resume = true, bool force = false) { ResumeValue = resume; ForceResumeValue = force; return Self; }
    /// <summary>Called after every step.</summary>
    public TSelf OnStep(Action<PreferenceStep> callback) { _onStep += callback; return Self; }

    /// <summary>The shared settings as the Training stage's record (what every checkpoint saves and compares on resume).</summary>
    public TrainerSettings SharedSettings => new()
    {
        LearningRate = LearningRateValue, Epochs = StepsValue is null ? EpochsValue : null, Steps = StepsValue, BatchSize = BatchSizeValue,
        WeightDecay = WeightDecayValue, Schedule = ScheduleValue, WarmupSteps = WarmupValue, ClipGradNorm = ClipValue, Seed = SeedValue,
        CheckpointEvery = CheckpointEveryValue, CheckpointDirectory = CheckpointDirectoryValue, KeepCheckpoints = KeepCheckpointsValue,
        Resume = ResumeValue, ForceResume = ForceResumeValue,
    };

    /// <summary>
    /// The objective's name ("dpo", "grpo", "reward") and its own settings that decide what a run computes, as text.
    /// Checkpoints save them; a resume with other values is refused naming both.
    /// </summary>
    private protected abstract IEnumerable<KeyValuePair<string, string>> ObjectiveSettings();

    /// <summary>One objective setting, its value written invariantly (doubles round-trip).</summary>
    private protected static KeyValuePair<string, string> Setting(string name, object? value) => KeyValuePair.Create(name, value switch
    {
        null => "none",
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString()!,
    });

    /// <summary>Why the run must stop after computing a step's figures (before its update), or null to go on.</summary>
    private protected virtual string? Divergence(int step, IReadOnlyDictionary<string, double> values) => null;

    /// <summary>Whether a checkpoint may be written after step <paramref name="step"/> (0-based): false while state outside the checkpoint is in use.</summary>
    private protected virtual bool CanCheckpointAfter(int step) => true;

    /// <summary>Optimizer steps a run over <paramref name="items"/> pairs or prompts takes.</summary>
    public int TotalSteps(int items) => StepsValue ?? (EpochsValue ?? 1) * (int)Math.Ceiling((double)items / BatchSizeValue);

    private protected static double Positive(double v, string what) =>
        v > 0 && double.IsFinite(v) ? v : throw new ArgumentOutOfRangeException(what, v, $"The {what} must be a positive number.");

    private protected static int AtLeastOne(int v, string what) =>
        v >= 1 ? v : throw new ArgumentOutOfRangeException(what, v, $"The {what} must be at least 1.");

    /// <summary>The items of step <paramref name="step"/>: a seeded shuffle per epoch, cut into batches.</summary>
    private protected IReadOnlyList<T> BatchAt<T>(IReadOnlyList<T> items, int step)
    {
        int perEpoch = (int)Math.Ceiling((double)items.Count / BatchSizeValue);
        int epoch = step / perEpoch, j = step % perEpoch;
        var order = Enumerable.Range(0, items.Count).ToArray();
        new Random(unchecked((int)(SeedValue * 7919 + epoch))).Shuffle(order);
        return order.Skip(j * BatchSizeValue).Take(BatchSizeValue).Select(i => items[i]).ToList();
    }

    /// <summary>
    /// Runs <paramref name="total"/> optimizer steps over the trainable parameters, from the newest checkpoint when
    /// resuming. <paramref name="step"/> computes the loss of step s (with gradients) and its figures; the loop does the
    /// rest, writing checkpoints as asked. A non-finite loss (or what <see cref="Divergence"/> names) stops the run before
    /// the update, leaving the weights of the last good step, and the message names the last good checkpoint.
    /// </summary>
    private protected PreferenceRun RunLoop(int total, Func<int, (Tensor Loss, Dictionary<string, double> Values)> step)
    {
        var clock = Stopwatch.StartNew();
        var trainable = Model.Module.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        if (trainable.Count == 0) throw new InvalidOperationException("No parameter requires gradients: add a LoRA adapter first.");
        using var optimizer = new AdamW(trainable.Select(p => (p.name, p.parameter)), weightDecay: WeightDecayValue);
        var schedule = new LrSchedule(ScheduleValue, LearningRateValue, WarmupValue, total);
        var history = new PreferenceHistory();
        var settings = SharedSettings;
        var objective = ObjectiveSettings().ToList();
        int start = 0;
        string? lastCheckpoint = Checkpoint.ResumeFrom(settings, objective);
        if (lastCheckpoint is not null)
        {
            var (state, saved) = Checkpoint.Restore(lastCheckpoint, trainable, optimizer);
            using (state) start = state.Step;
            history.Restore(PreferenceHistory.FromJson(saved.ToJsonString(), lastCheckpoint).Steps);
        }
        bool wasTraining = Model.Module.training;
        try
        {
            for (int s = start; s < total; s++)
            {
                using var scope = NewDisposeScope();
                manual_seed((long)SeedValue * 1_000_003 + s);
                Model.Module.train();
                optimizer.ZeroGrad();
                var (loss, values) = step(s);
                double lossValue = loss.item<float>();
                if (!double.IsFinite(lossValue))
                    throw new TrainingDivergedException($"Training diverged at step {s + 1}: the loss is {lossValue}. The model keeps the weights from before this step; {Checkpoint.LastGood(lastCheckpoint)}. Lower the learning rate or clip gradients.");
                if (Divergence(s, values) is { } why)
                    throw new TrainingDivergedException($"{why} The model keeps the weights from before this step; {Checkpoint.LastGood(lastCheckpoint)}.");
                loss.backward();
                double gradNorm = nn.utils.clip_grad_norm_(optimizer.Parameters, ClipValue ?? double.PositiveInfinity);
                double lr = schedule.At(s);
                optimizer.Update(lr);
                var record = new PreferenceStep { Step = s + 1, Loss = lossValue, Lr = lr, GradNorm = gradNorm, Values = values };
                history.Add(record);
                bool last = s == total - 1;
                if (CheckpointDirectoryValue is not null && ((s + 1) % CheckpointEveryValue == 0 || last) && CanCheckpointAfter(s))
                    using (var state = new LoopState { Step = s + 1 })
                        lastCheckpoint = Checkpoint.Save(CheckpointDirectoryValue, state, trainable, optimizer, history.ToJsonArray(), settings, objective);
                _onStep?.Invoke(record);
            }
        }
        finally
        {
            Model.Module.train(wasTraining);
        }
        return new PreferenceRun { History = history, Steps = total, Elapsed = clock.Elapsed, LastCheckpoint = lastCheckpoint };
    }
}
