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
    /// <summary>Wall time.</summary>
    public required TimeSpan Elapsed { get; init; }
}

/// <summary>
/// Settings every preference and RL trainer shares (learning rate, steps, batch, schedule, clipping, seed), set
/// fluently, and the loop that runs them with the Training stage's <see cref="AdamW"/> and <see cref="LrSchedule"/>.
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
    private Action<PreferenceStep>? _onStep;

    private protected PreferenceTrainerBase(CausalLM model) => Model = model;

    private TSelf Self => (TSelf)this;

    /// <summary>
    /// Takes the shared settings of a <see cref="TrainerSettings"/> (learning rate, epochs or steps, batch size, weight
    /// decay, schedule and warm-up, clipping, seed). Settings this loop does not have are refused by name rather than
    /// ignored: accumulation, evaluation, early stopping, checkpoints, resume and packing. The sequence length limit
    /// belongs to the preference data (<c>PreferenceData.From</c>).
    /// </summary>
    internal TSelf Settings(TrainerSettings s)
    {
        var defaults = new TrainerSettings();
        var unsupported = new List<string>();
        if (s.GradientAccumulation != defaults.GradientAccumulation) unsupported.Add("GradientAccumulation");
        if (s.EvaluateEvery != defaults.EvaluateEvery) unsupported.Add("EvaluateEvery");
        if (s.Patience != defaults.Patience) unsupported.Add("Patience");
        if (s.CheckpointEvery != defaults.CheckpointEvery || s.CheckpointDirectory != defaults.CheckpointDirectory) unsupported.Add("checkpoints");
        if (s.Resume) unsupported.Add("Resume");
        if (s.Packing) unsupported.Add("Packing");
        if (unsupported.Count > 0)
            throw new ArgumentException($"{typeof(TSelf).Name} does not support {string.Join(", ", unsupported)} (set on the Trainer); preference and RL runs have no such setting yet.");
        LearningRate(s.LearningRate);
        if (s.Steps is { } steps) Steps(steps);
        else if (s.Epochs is { } epochs) Epochs(epochs);
        BatchSize(s.BatchSize);
        WeightDecay(s.WeightDecay);
        Schedule(s.Schedule, s.WarmupSteps);
        ClipGradNorm(s.ClipGradNorm);
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
    /// <summary>Called after every step.</summary>
    public TSelf OnStep(Action<PreferenceStep> callback) { _onStep += callback; return Self; }

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
    /// Runs <paramref name="total"/> optimizer steps over the trainable parameters. <paramref name="step"/> computes the
    /// loss of step s (with gradients) and its figures; the loop does the rest. A non-finite loss stops the run before
    /// the update, leaving the weights of the last good step.
    /// </summary>
    private protected PreferenceRun RunLoop(int total, Func<int, (Tensor Loss, Dictionary<string, double> Values)> step)
    {
        var clock = Stopwatch.StartNew();
        var trainable = Model.Module.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        if (trainable.Count == 0) throw new InvalidOperationException("No parameter requires gradients: add a LoRA adapter first.");
        using var optimizer = new AdamW(trainable.Select(p => (p.name, p.parameter)), weightDecay: WeightDecayValue);
        var schedule = new LrSchedule(ScheduleValue, LearningRateValue, WarmupValue, total);
        var history = new PreferenceHistory();
        bool wasTraining = Model.Module.training;
        try
        {
            for (int s = 0; s < total; s++)
            {
                using var scope = NewDisposeScope();
                manual_seed((long)SeedValue * 1_000_003 + s);
                Model.Module.train();
                optimizer.ZeroGrad();
                var (loss, values) = step(s);
                double lossValue = loss.item<float>();
                if (!double.IsFinite(lossValue))
                    throw new TrainingDivergedException($"Training diverged at step {s + 1}: the loss is {lossValue}. The model keeps the weights from before this step. Lower the learning rate or clip gradients.");
                loss.backward();
                double gradNorm = nn.utils.clip_grad_norm_(optimizer.Parameters, ClipValue ?? double.PositiveInfinity);
                double lr = schedule.At(s);
                optimizer.Update(lr);
                var record = new PreferenceStep { Step = s + 1, Loss = lossValue, Lr = lr, GradNorm = gradNorm, Values = values };
                history.Add(record);
                _onStep?.Invoke(record);
            }
        }
        finally
        {
            Model.Module.train(wasTraining);
        }
        return new PreferenceRun { History = history, Steps = total, Elapsed = clock.Elapsed };
    }
}
