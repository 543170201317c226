using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Io;
using FineTune.Kit.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FineTune.Kit.Training;

/// <summary>Raised when the loss stops being a finite number; the model keeps the weights of the last good step.</summary>
public sealed class TrainingDivergedException(string message) : KitException(message);

/// <summary>The outcome of <see cref="Trainer.Fit"/>.</summary>
public sealed record TrainingRun
{
    /// <summary>Per-step metrics.</summary>
    public required TrainingHistory History { get; init; }
    /// <summary>Optimizer steps taken in total (including those before a resume).</summary>
    public required int Steps { get; init; }
    /// <summary>Wall time of this call.</summary>
    public required TimeSpan Elapsed { get; init; }
    /// <summary>Whether early stopping ended the run.</summary>
    public bool StoppedEarly { get; init; }
    /// <summary>Step of the best validation result (whose weights the model holds when early stopping is on).</summary>
    public int? BestStep { get; init; }
    /// <summary>Best validation loss seen.</summary>
    public double? BestValLoss { get; init; }
    /// <summary>The newest checkpoint folder written, if any.</summary>
    public string? LastCheckpoint { get; init; }
    /// <summary>Examples left out because no token of theirs counts in the loss after truncation (reported, not hidden).</summary>
    public int ExamplesWithoutLossTokens { get; init; }
}

/// <summary>
/// A plain training loop, configured fluently:
/// <c>Trainer.For(model).LearningRate(2e-4).Epochs(3).EarlyStopping(patience: 2).Fit(train, validation)</c>.
/// Trains whatever parameters require gradients (a LoRA adapter, chosen modules, or the whole model).
/// Deterministic on the CPU for a seed; checkpoints hold everything needed to resume to the same final weights.
/// </summary>
public sealed class Trainer
{
    private readonly CausalLM _model;
    private TrainerSettings _s = new();
    private Func<double>? _validationMetric;
    private Action<StepMetrics>? _onStep;

    private Trainer(CausalLM model) => _model = model;

    /// <summary>Starts configuring a run on <paramref name="model"/>.</summary>
    public static Trainer For(CausalLM model) => new(model);

    /// <summary>The settings so far: what the fluent setters filled in, and what every checkpoint saves.</summary>
    public TrainerSettings Settings => _s;

    /// <summary>The model this run trains (objectives of later stages continue from here, e.g. Preferences' <c>Dpo</c>).</summary>
    public CausalLM Model => _model;

    /// <summary>Takes all settings at once (as the command line fills them), checking each as its setter would.</summary>
    public Trainer AllSettings(TrainerSettings settings)
    {
        var t = For(_model);
        t.LearningRate(settings.LearningRate).BatchSize(settings.BatchSize).GradientAccumulation(settings.GradientAccumulation)
            .MaxSequenceLength(settings.MaxSequenceLength).WeightDecay(settings.WeightDecay)
            .Schedule(settings.Schedule, settings.WarmupSteps).ClipGradNorm(settings.ClipGradNorm).EvaluateEvery(settings.EvaluateEvery)
            .Seed(settings.Seed);
        if (settings.Steps is { } steps) t.Steps(steps);
        if (settings.Epochs is { } epochs) t.Epochs(epochs);
        if (settings.Patience is { } patience) t.EarlyStopping(patience);
        if (settings.CheckpointDirectory is { } dir) t.CheckpointEvery(settings.CheckpointEvery, dir, settings.KeepCheckpoints);
        _s = t._s with { Resume = settings.Resume, ForceResume = settings.ForceResume, Packing = settings.Packing };
        return this;
    }

    /// <summary>Peak learning rate (a finite number above 0).</summary>
    public Trainer LearningRate(double lr) { _s = _s with { LearningRate = TrainerSettings.Positive("LearningRate", lr) }; return this; }
    /// <summary>Train for whole passes over the data (1 or more).</summary>
    public Trainer Epochs(int epochs) { _s = _s with { Epochs = TrainerSettings.AtLeast("Epochs", epochs, 1), Steps = null }; return this; }
    /// <summary>Train for a number of optimizer steps (1 or more).</summary>
    public Trainer Steps(int steps) { _s = _s with { Steps = TrainerSettings.AtLeast("Steps", steps, 1), Epochs = null }; return this; }
    /// <summary>Examples per micro-batch (1 or more).</summary>
    public Trainer BatchSize(int size) { _s = _s with { BatchSize = TrainerSettings.AtLeast("BatchSize", size, 1) }; return this; }
    /// <summary>Micro-batches whose gradients add up to one step (the loss is normalised over all of their tokens, so this equals a larger batch).</summary>
    public Trainer GradientAccumulation(int steps) { _s = _s with { GradientAccumulation = TrainerSettings.AtLeast("GradientAccumulation", steps, 1) }; return this; }
    /// <summary>Longest sequence (2 tokens or more); longer examples are cut.</summary>
    public Trainer MaxSequenceLength(int tokens) { _s = _s with { MaxSequenceLength = TrainerSettings.AtLeast("MaxSequenceLength", tokens, 2) }; return this; }
    /// <summary>Decoupled weight decay (0 or more; not applied to biases and norms).</summary>
    public Trainer WeightDecay(double wd) { _s = _s with { WeightDecay = TrainerSettings.NonNegative("WeightDecay", wd) }; return this; }
    /// <summary>Learning-rate schedule and linear warm-up (0 steps or more).</summary>
    public Trainer Schedule(LrScheduleKind kind, int warmupSteps = 0)
    {
        if (!Enum.IsDefined(kind)) throw new ArgumentException($"Schedule must be one of {string.Join(", ", Enum.GetNames<LrScheduleKind>())}; got {(int)kind}.", nameof(kind));
        _s = _s with { Schedule = kind, WarmupSteps = TrainerSettings.AtLeast("WarmupSteps", warmupSteps, 0) };
        return this;
    }
    /// <summary>Clip the global gradient norm (a finite number above 0; null: no clipping).</summary>
    public Trainer ClipGradNorm(double? maxNorm) { _s = _s with { ClipGradNorm = maxNorm is { } n ? TrainerSettings.Positive("ClipGradNorm", n) : null }; return this; }
    /// <summary>Evaluate on the validation set every N steps (and at the end); 0 evaluates at the end only.</summary>
    public Trainer EvaluateEvery(int steps) { _s = _s with { EvaluateEvery = TrainerSettings.AtLeast("EvaluateEvery", steps, 0) }; return this; }
    /// <summary>Stop when validation has not improved for <paramref name="patience"/> evaluations (1 or more), and restore the best weights.</summary>
    public Trainer EarlyStopping(int patience) { _s = _s with { Patience = TrainerSettings.AtLeast("EarlyStopping patience", patience, 1) }; return this; }
    /// <summary>A validation metric (higher is better) used for early stopping instead of validation loss.</summary>
    public Trainer ValidationMetric(Func<double> metric) { _validationMetric = metric ?? throw new ArgumentException("ValidationMetric needs a function.", nameof(metric)); return this; }
    /// <summary>Write a checkpoint every N steps (1 or more) into <paramref name="directory"/>, keeping the newest <paramref name="keep"/> (1 or more).</summary>
    public Trainer CheckpointEvery(int steps, string directory, int keep = 2)
    {
        if (string.IsNullOrWhiteSpace(directory)) throw new ArgumentException("CheckpointEvery needs a checkpoint folder.", nameof(directory));
        _s = _s with
        {
            CheckpointEvery = TrainerSettings.AtLeast("CheckpointEvery", steps, 1), CheckpointDirectory = directory,
            KeepCheckpoints = TrainerSettings.AtLeast("CheckpointEvery keep", keep, 1),
        };
        return this;
    }
    /// <summary>
    /// Continue from the newest checkpoint in the checkpoint folder, if there is one. A checkpoint written with other
    /// settings (learning rate, batch size, ...) is an error naming both values, unless <paramref name="force"/>.
    /// </summary>
    public Trainer Resume(bool resume = true, bool force = false) { _s = _s with { Resume = resume, ForceResume = force }; return this; }
    /// <summary>Concatenate short examples into sequences of up to the maximum length; attention does not cross examples.</summary>
    public Trainer Packing(bool on = true) { _s = _s with { Packing = on }; return this; }
    /// <summary>Seed of data order and dropout.</summary>
    public Trainer Seed(int seed) { _s = _s with { Seed = seed }; return this; }
    /// <summary>Called after every step (progress bars, notebooks).</summary>
    public Trainer OnStep(Action<StepMetrics> callback) { _onStep += callback; return this; }
    /// <summary>Reports every step to an <see cref="IProgress{T}"/>.</summary>
    public Trainer Progress(IProgress<StepMetrics> progress) { _onStep += progress.Report; return this; }

    /// <summary>The number of optimizer steps a run over <paramref name="examples"/> takes with the current settings.</summary>
    public int TotalSteps(int examples) => _s.Steps ?? (_s.Epochs ?? 1) * (int)Math.Ceiling((double)MicroBatchesPerEpoch(examples) / _s.GradientAccumulation);

    /// <summary>The number of optimizer steps <see cref="Fit"/> takes on <paramref name="train"/> (after truncation and packing).</summary>
    public int TotalSteps(IReadOnlyList<TokenizedExample> train) =>
        _s.Steps ?? TotalSteps(PrepareTraining(train).Data.Count);   // a fixed step count needs no pass over the data

    private int MicroBatchesPerEpoch(int examples) => (int)Math.Ceiling((double)examples / _s.BatchSize);

    /// <summary>Runs the loop. Returns when the steps are done, early stopping fires, or throws if the loss diverges.</summary>
    public TrainingRun Fit(IReadOnlyList<TokenizedExample> train, IReadOnlyList<TokenizedExample>? validation = null)
    {
        var clock = Stopwatch.StartNew();
        _orders.Clear();                                   // data orders belong to one call (the data may differ next time)
        var (data, withoutLoss) = PrepareTraining(train);
        var val = PrepareValidation(validation);
        var trainable = TrainableParameters();
        using var optimizer = new AdamW(trainable.Select(p => (p.name, p.parameter)), weightDecay: _s.WeightDecay);
        int total = TotalSteps(data.Count);
        var schedule = new LrSchedule(_s.Schedule, _s.LearningRate, _s.WarmupSteps, total);
        var history = new TrainingHistory();
        var (state, lastCheckpoint) = ResumeOrStart(trainable, optimizer, history);

        bool stoppedEarly = false;
        _model.Module.train();
        try
        {
            for (int step = state.Step; step < total; step++)
            {
                using var scope = NewDisposeScope();
                var stepClock = Stopwatch.StartNew();
                var (loss, realTokens) = ForwardBackward(step, data, optimizer);
                if (!double.IsFinite(loss)) throw Diverged(step, loss, lastCheckpoint);
                double gradNorm = nn.utils.clip_grad_norm_(optimizer.Parameters, _s.ClipGradNorm ?? double.PositiveInfinity);
                double lr = schedule.At(step);
                optimizer.Update(lr);

                bool last = step == total - 1;
                var (valLoss, valMetric) = IsValidationStep(step, last, val) ? Validate(val) : (null, null);
                if (valLoss is not null || valMetric is not null)
                    stoppedEarly = RecordValidation(state, step, valLoss, valMetric, trainable);
                var metrics = new StepMetrics
                {
                    Step = step + 1, Epoch = (double)(step + 1) * _s.GradientAccumulation / MicroBatchesPerEpoch(data.Count),
                    Loss = loss, ValLoss = valLoss, ValMetric = valMetric, Lr = lr, GradNorm = gradNorm,
                    Tokens = realTokens, TokensPerSecond = realTokens / Math.Max(1e-9, stepClock.Elapsed.TotalSeconds),
                    RssMb = Environment.WorkingSet / (1024.0 * 1024.0),
                };
                history.Add(metrics);
                state.Step = step + 1;
                if (IsCheckpointStep(step, last || stoppedEarly))
                    lastCheckpoint = Checkpoint.Save(_s.CheckpointDirectory!, state, trainable, optimizer, history, _s);
                _onStep?.Invoke(metrics);
                if (stoppedEarly) break;
            }
            if (_s.Patience is not null) state.RestoreBest(trainable);
        }
        finally
        {
            _model.Module.eval();
            state.Dispose();
        }
        return new TrainingRun
        {
            History = history, Steps = state.Step, Elapsed = clock.Elapsed, StoppedEarly = stoppedEarly,
            BestStep = state.BestStep, BestValLoss = state.BestValLoss, LastCheckpoint = lastCheckpoint,
            ExamplesWithoutLossTokens = withoutLoss,
        };
    }

    /// <summary>Truncates, drops examples with nothing to learn (counted), and packs when asked.</summary>
    private (List<TokenizedExample> Data, int WithoutLoss) PrepareTraining(IReadOnlyList<TokenizedExample> train)
    {
        var prepared = train.Select(e => e.Truncate(_s.MaxSequenceLength)).ToList();
        int withoutLoss = prepared.Count(e => e.LossTokens == 0);
        prepared = prepared.Where(e => e.LossTokens > 0).ToList();
        if (_s.Packing) prepared = Pack(prepared, _s.MaxSequenceLength);
        if (prepared.Count == 0) throw new ArgumentException("No training example has a token that counts in the loss (all are empty, or truncation cut every completion).");
        return (prepared, withoutLoss);
    }

    private List<TokenizedExample>? PrepareValidation(IReadOnlyList<TokenizedExample>? validation)
    {
        var val = validation?.Select(e => e.Truncate(_s.MaxSequenceLength)).Where(e => e.LossTokens > 0).ToList();
        if ((_s.Patience is not null || _s.EvaluateEvery > 0) && (val is null || val.Count == 0) && _validationMetric is null)
            throw new ArgumentException("Evaluation and early stopping need validation examples.");
        return val;
    }

    private List<(string name, Parameter parameter)> TrainableParameters()
    {
        var trainable = _model.Module.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        if (trainable.Count == 0) throw new InvalidOperationException("No parameter requires gradients: add a LoRA adapter or unfreeze parameters first.");
        return trainable;
    }

    /// <summary>A fresh loop state, or the newest checkpoint's when resuming (after checking it was written with these settings).</summary>
    private (LoopState State, string? Checkpoint) ResumeOrStart(List<(string name, Parameter parameter)> trainable, AdamW optimizer, TrainingHistory history)
    {
        if (Checkpoint.ResumeFrom(_s, Checkpoint.Sft) is not { } latest) return (new LoopState(), null);
        return (Checkpoint.Load(latest, trainable, optimizer, history), latest);
    }

    /// <summary>
    /// One optimizer step's gradients: the step's micro-batches forward and backward, the loss normalised over all of
    /// their loss tokens. Returns the mean loss per token and the real (non-padding) tokens seen.
    /// </summary>
    private (double Loss, long RealTokens) ForwardBackward(int step, List<TokenizedExample> data, AdamW optimizer)
    {
        manual_seed(_s.Seed * 1_000_003 + step);        // dropout masks depend only on (seed, step): resumable
        optimizer.ZeroGrad();
        int microPerEpoch = MicroBatchesPerEpoch(data.Count);
        var micro = Enumerable.Range(step * _s.GradientAccumulation, _s.GradientAccumulation)
            .Select(m => MicroBatch(m, data, microPerEpoch)).Where(b => b.Count > 0).ToList();
        long lossTokens = micro.Sum(b => b.Sum(e => (long)e.LossTokens));
        double lossSum = 0;
        long realTokens = 0;
        long padId = _model.Config.PadTokenId ?? 0;
        foreach (var examples in micro)
        {
            using var batch = TrainingBatch.Collate(examples, padId, _model.Device);
            var loss = SummedLoss(_model, batch);
            lossSum += loss.item<float>();
            (loss / lossTokens).backward();
            realTokens += batch.RealTokens;
        }
        return (lossSum / lossTokens, realTokens);
    }

    private static TrainingDivergedException Diverged(int step, double loss, string? lastCheckpoint) => new(
        $"Training diverged at step {step + 1}: the loss is {loss}. The model keeps the weights from before this step; " +
        $"{Checkpoint.LastGood(lastCheckpoint)}. Lower the learning rate or clip gradients.");

    private bool IsValidationStep(int step, bool last, List<TokenizedExample>? val) =>
        (_s.EvaluateEvery > 0 && (step + 1) % _s.EvaluateEvery == 0) || (last && (val is { Count: > 0 } || _validationMetric is not null));

    private (double? Loss, double? Metric) Validate(List<TokenizedExample>? val)
    {
        double? valLoss = val is { Count: > 0 } ? Evaluate(val) : null, valMetric = null;
        if (_validationMetric is not null) { _model.Module.eval(); valMetric = _validationMetric(); _model.Module.train(); }
        return (valLoss, valMetric);
    }

    /// <summary>Keeps the best result (and its weights, for early stopping); true when patience has run out.</summary>
    private bool RecordValidation(LoopState state, int step, double? valLoss, double? valMetric, List<(string name, Parameter parameter)> trainable)
    {
        double score = valMetric ?? -valLoss!.Value;
        if (state.BestScore is null || score > state.BestScore)
        {
            state.BestScore = score; state.BestStep = step + 1; state.BestValLoss = valLoss; state.BadEvals = 0;
            if (_s.Patience is not null) state.SnapshotBest(trainable);
            return false;
        }
        return _s.Patience is not null && ++state.BadEvals >= _s.Patience;
    }

    private bool IsCheckpointStep(int step, bool final) =>
        _s.CheckpointDirectory is not null && _s.CheckpointEvery > 0 && ((step + 1) % _s.CheckpointEvery == 0 || final);

    private List<TokenizedExample> MicroBatch(int m, List<TokenizedExample> data, int microPerEpoch)
    {
        int epoch = m / microPerEpoch, j = m % microPerEpoch;
        var order = EpochOrder(epoch, data.Count);
        return order.Skip(j * _s.BatchSize).Take(_s.BatchSize).Select(i => data[i]).ToList();
    }

    private readonly Dictionary<int, int[]> _orders = new();

    private int[] EpochOrder(int epoch, int n)
    {
        if (_orders.TryGetValue(epoch, out var order)) return order;
        order = Enumerable.Range(0, n).ToArray();
        new Random(unchecked((int)(_s.Seed * 7919 + epoch))).Shuffle(order);
        return _orders[epoch] = order;
    }

    /// <summary>Mean loss per loss token over examples, without gradients, in evaluation mode.</summary>
    public double Evaluate(IReadOnlyList<TokenizedExample> examples) => LossPerToken(_model, examples, _s.BatchSize, _s.MaxSequenceLength);

    /// <summary>Mean loss per loss token of <paramref name="model"/> over examples.</summary>
    public static double LossPerToken(CausalLM model, IReadOnlyList<TokenizedExample> examples, int batchSize = 8, int maxLength = 1024)
    {
        bool wasTraining = model.Module.training;
        model.Module.eval();
        double sum = 0;
        long count = 0;
        using (no_grad())
        {
            foreach (var chunk in examples.Select(e => e.Truncate(maxLength)).Where(e => e.LossTokens > 0).Chunk(batchSize))
            {
                using var scope = NewDisposeScope();
                using var batch = TrainingBatch.Collate(chunk, model.Config.PadTokenId ?? 0, model.Device);
                sum += SummedLoss(model, batch).item<float>();
                count += batch.LossTokens;
            }
        }
        model.Module.train(wasTraining);
        return count == 0 ? double.NaN : sum / count;
    }

    /// <summary>Cross-entropy summed over the labelled positions; the output head runs only at those positions.</summary>
    internal static Tensor SummedLoss(CausalLM model, TrainingBatch batch)
    {
        var labelled = batch.Labels.ne(TrainingBatch.Ignore);
        using var output = model.Module.Forward(batch.Ids, batch.Mask, logitPositions: labelled);
        return F.cross_entropy(output.Logits.to_type(ScalarType.Float32), batch.Labels[labelled], reduction: nn.Reduction.Sum);
    }

    /// <summary>
    /// Greedy packing: consecutive examples are concatenated while they fit in <paramref name="maxLength"/>. Each packed
    /// sequence numbers its examples (<see cref="TokenizedExample.Segments"/>), so attention stays within an example
    /// and positions restart: the loss equals that of the examples trained one by one, with less padding.
    /// </summary>
    public static List<TokenizedExample> Pack(IReadOnlyList<TokenizedExample> examples, int maxLength)
    {
        var packed = new List<TokenizedExample>();
        var ids = new List<long>();
        var loss = new List<bool>();
        var segments = new List<int>();
        int segment = 0;
        void Flush()
        {
            packed.Add(new TokenizedExample([.. ids], [.. loss]) { Segments = [.. segments] });
            ids.Clear(); loss.Clear(); segments.Clear();
            segment = 0;
        }
        foreach (var e in examples)
        {
            if (ids.Count > 0 && ids.Count + e.Ids.Length > maxLength) Flush();
            segment++;
            ids.AddRange(e.Ids);
            loss.AddRange(e.Loss);
            segments.AddRange(Enumerable.Repeat(segment, e.Ids.Length));
            // the first token of the next example is not predicted from this one
            if (loss.Count > e.Loss.Length) loss[^e.Loss.Length] = false;
        }
        if (ids.Count > 0) Flush();
        return packed;
    }
}

/// <summary>Loop bookkeeping that checkpoints carry.</summary>
internal sealed class LoopState : IDisposable
{
    public int Step;
    public double? BestScore;
    public int? BestStep;
    public double? BestValLoss;
    public int BadEvals;
    public Dictionary<string, Tensor>? Best;

    public void SnapshotBest(IEnumerable<(string name, Parameter parameter)> trainable)
    {
        DisposeBest();
        Best = trainable.ToDictionary(p => p.name, p => p.parameter.detach().clone().cpu().DetachFromDisposeScope());
    }

    public void RestoreBest(IEnumerable<(string name, Parameter parameter)> trainable)
    {
        if (Best is null) return;
        using var _ = no_grad();
        foreach (var (name, p) in trainable) p.copy_(Best[name]);
    }

    private void DisposeBest()
    {
        foreach (var t in Best?.Values ?? Enumerable.Empty<Tensor>()) t.Dispose();
        Best = null;
    }

    public void Dispose() => DisposeBest();
}
