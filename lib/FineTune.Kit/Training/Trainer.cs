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
    private double _lr = 2e-4, _weightDecay = 0.01;
    private int? _epochs, _steps;
    private int _batchSize = 8, _gradAccum = 1, _maxLength = 256, _warmup, _evalEvery, _checkpointEvery, _keepCheckpoints = 2;
    private LrScheduleKind _schedule = LrScheduleKind.Linear;
    private double? _clip = 1.0;
    private int? _patience;
    private string? _checkpointDir;
    private bool _resume, _packing;
    private long _seed = 1;
    private Func<double>? _validationMetric;
    private Action<StepMetrics>? _onStep;

    private Trainer(CausalLM model) => _model = model;

    /// <summary>Starts configuring a run on <paramref name="model"/>.</summary>
    public static Trainer For(CausalLM model) => new(model);

    /// <summary>Peak learning rate.</summary>
    public Trainer LearningRate(double lr) { _lr = lr; return this; }
    /// <summary>Train for whole passes over the data.</summary>
    public Trainer Epochs(int epochs) { _epochs = epochs; _steps = null; return this; }
    /// <summary>Train for a number of optimizer steps.</summary>
    public Trainer Steps(int steps) { _steps = steps; _epochs = null; return this; }
    /// <summary>Examples per micro-batch.</summary>
    public Trainer BatchSize(int size) { _batchSize = size; return this; }
    /// <summary>Micro-batches whose gradients add up to one step (the loss is normalised over all of their tokens, so this equals a larger batch).</summary>
    public Trainer GradientAccumulation(int steps) { _gradAccum = steps; return this; }
    /// <summary>Longest sequence; longer examples are cut.</summary>
    public Trainer MaxSequenceLength(int tokens) { _maxLength = tokens; return this; }
    /// <summary>Decoupled weight decay (not applied to biases and norms).</summary>
    public Trainer WeightDecay(double wd) { _weightDecay = wd; return this; }
    /// <summary>Learning-rate schedule and linear warm-up.</summary>
    public Trainer Schedule(LrScheduleKind kind, int warmupSteps = 0) { _schedule = kind; _warmup = warmupSteps; return this; }
    /// <summary>Clip the global gradient norm (null: no clipping).</summary>
    public Trainer ClipGradNorm(double? maxNorm) { _clip = maxNorm; return this; }
    /// <summary>Evaluate on the validation set every N steps (and at the end).</summary>
    public Trainer EvaluateEvery(int steps) { _evalEvery = steps; return this; }
    /// <summary>Stop when validation has not improved for <paramref name="patience"/> evaluations, and restore the best weights.</summary>
    public Trainer EarlyStopping(int patience) { _patience = patience; return this; }
    /// <summary>A validation metric (higher is better) used for early stopping instead of validation loss.</summary>
    public Trainer ValidationMetric(Func<double> metric) { _validationMetric = metric; return this; }
    /// <summary>Write a checkpoint every N steps into <paramref name="directory"/>, keeping the newest <paramref name="keep"/>.</summary>
    public Trainer CheckpointEvery(int steps, string directory, int keep = 2) { _checkpointEvery = steps; _checkpointDir = directory; _keepCheckpoints = keep; return this; }
    /// <summary>Continue from the newest checkpoint in the checkpoint folder, if there is one.</summary>
    public Trainer Resume(bool resume = true) { _resume = resume; return this; }
    /// <summary>Concatenate short examples into sequences of up to the maximum length.</summary>
    public Trainer Packing(bool on = true) { _packing = on; return this; }
    /// <summary>Seed of data order and dropout.</summary>
    public Trainer Seed(long seed) { _seed = seed; return this; }
    /// <summary>Called after every step (progress bars, notebooks).</summary>
    public Trainer OnStep(Action<StepMetrics> callback) { _onStep += callback; return this; }
    /// <summary>Reports every step to an <see cref="IProgress{T}"/>.</summary>
    public Trainer Progress(IProgress<StepMetrics> progress) { _onStep += progress.Report; return this; }

    /// <summary>The number of optimizer steps a run over <paramref name="examples"/> takes with the current settings.</summary>
    public int TotalSteps(int examples) => _steps ?? (_epochs ?? 1) * (int)Math.Ceiling((double)MicroBatchesPerEpoch(examples) / _gradAccum);

    private int MicroBatchesPerEpoch(int examples) => (int)Math.Ceiling((double)examples / _batchSize);

    /// <summary>Runs the loop. Returns when the steps are done, early stopping fires, or throws if the loss diverges.</summary>
    public TrainingRun Fit(IReadOnlyList<TokenizedExample> train, IReadOnlyList<TokenizedExample>? validation = null)
    {
        var clock = Stopwatch.StartNew();
        _orders.Clear();                                   // data orders belong to one call (the data may differ next time)
        var prepared = train.Select(e => e.Truncate(_maxLength)).ToList();
        int withoutLoss = prepared.Count(e => e.LossTokens == 0);
        prepared = prepared.Where(e => e.LossTokens > 0).ToList();
        if (_packing) prepared = Pack(prepared, _maxLength);
        if (prepared.Count == 0) throw new ArgumentException("No training example has a token that counts in the loss (all are empty, or truncation cut every completion).");
        var val = validation?.Select(e => e.Truncate(_maxLength)).Where(e => e.LossTokens > 0).ToList();
        if ((_patience is not null || _evalEvery > 0) && (val is null || val.Count == 0) && _validationMetric is null)
            throw new ArgumentException("Evaluation and early stopping need validation examples.");

        var trainable = _model.Module.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        if (trainable.Count == 0) throw new InvalidOperationException("No parameter requires gradients: add a LoRA adapter or unfreeze parameters first.");
        using var optimizer = new AdamW(trainable.Select(p => (p.name, p.parameter)), weightDecay: _weightDecay);
        int total = TotalSteps(prepared.Count);
        var schedule = new LrSchedule(_schedule, _lr, _warmup, total);
        int microPerEpoch = MicroBatchesPerEpoch(prepared.Count);
        long padId = _model.Config.PadTokenId ?? 0;
        var device = _model.Device;

        var history = new TrainingHistory();
        var state = new LoopState();
        string? lastCheckpoint = null;
        if (_resume && _checkpointDir is not null && Checkpoint.Latest(_checkpointDir) is { } latest)
        {
            state = Checkpoint.Load(latest, trainable, optimizer, history);
            lastCheckpoint = latest;
        }

        bool stoppedEarly = false;
        _model.Module.train();
        try
        {
            for (int step = state.Step; step < total; step++)
            {
                using var scope = NewDisposeScope();
                var stepClock = Stopwatch.StartNew();
                manual_seed(_seed * 1_000_003 + step);        // dropout masks depend only on (seed, step): resumable
                optimizer.ZeroGrad();
                var micro = Enumerable.Range(step * _gradAccum, _gradAccum)
                    .Select(m => MicroBatch(m, prepared, microPerEpoch)).Where(b => b.Count > 0).ToList();
                long lossTokens = micro.Sum(b => b.Sum(e => (long)e.LossTokens));
                double lossSum = 0;
                long realTokens = 0;
                foreach (var examples in micro)
                {
                    using var batch = TrainingBatch.Collate(examples, padId, device);
                    var loss = SummedLoss(_model, batch);
                    lossSum += loss.item<float>();
                    (loss / lossTokens).backward();
                    realTokens += batch.RealTokens;
                }
                double meanLoss = lossSum / lossTokens;
                if (!double.IsFinite(meanLoss))
                    throw new TrainingDivergedException(
                        $"Training diverged at step {step + 1}: the loss is {meanLoss}. The model keeps the weights from before this step; " +
                        $"the last good checkpoint is {lastCheckpoint ?? "none (use CheckpointEvery to keep some)"}. Lower the learning rate or clip gradients.");
                double gradNorm = nn.utils.clip_grad_norm_(optimizer.Parameters, _clip ?? double.PositiveInfinity);
                double lr = schedule.At(step);
                optimizer.Update(lr);

                double? valLoss = null, valMetric = null;
                bool last = step == total - 1;
                if ((_evalEvery > 0 && (step + 1) % _evalEvery == 0) || (last && (val is { Count: > 0 } || _validationMetric is not null)))
                {
                    if (val is { Count: > 0 }) valLoss = Evaluate(val);
                    if (_validationMetric is not null) { _model.Module.eval(); valMetric = _validationMetric(); _model.Module.train(); }
                    double score = valMetric ?? -valLoss!.Value;
                    if (state.BestScore is null || score > state.BestScore)
                    {
                        state.BestScore = score; state.BestStep = step + 1; state.BestValLoss = valLoss; state.BadEvals = 0;
                        if (_patience is not null) state.SnapshotBest(trainable);
                    }
                    else if (_patience is not null && ++state.BadEvals >= _patience) stoppedEarly = true;
                }
                var metrics = new StepMetrics
                {
                    Step = step + 1, Epoch = (double)(step + 1) * _gradAccum / microPerEpoch, Loss = meanLoss, ValLoss = valLoss,
                    ValMetric = valMetric, Lr = lr, GradNorm = gradNorm,
                    TokensPerSecond = realTokens / Math.Max(1e-9, stepClock.Elapsed.TotalSeconds),
                    RssMb = Environment.WorkingSet / (1024.0 * 1024.0),
                };
                history.Add(metrics);
                state.Step = step + 1;
                if (_checkpointDir is not null && _checkpointEvery > 0 && ((step + 1) % _checkpointEvery == 0 || last || stoppedEarly))
                    lastCheckpoint = Checkpoint.Save(_checkpointDir, state, trainable, optimizer, history, _keepCheckpoints);
                _onStep?.Invoke(metrics);
                if (stoppedEarly) break;
            }
            if (_patience is not null) state.RestoreBest(trainable);
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

    private List<TokenizedExample> MicroBatch(int m, List<TokenizedExample> data, int microPerEpoch)
    {
        int epoch = m / microPerEpoch, j = m % microPerEpoch;
        var order = EpochOrder(epoch, data.Count);
        return order.Skip(j * _batchSize).Take(_batchSize).Select(i => data[i]).ToList();
    }

    private readonly Dictionary<int, int[]> _orders = new();

    private int[] EpochOrder(int epoch, int n)
    {
        if (_orders.TryGetValue(epoch, out var order)) return order;
        order = Enumerable.Range(0, n).ToArray();
        new Random(unchecked((int)(_seed * 7919 + epoch))).Shuffle(order);
        return _orders[epoch] = order;
    }

    /// <summary>Mean loss per loss token over examples, without gradients, in evaluation mode.</summary>
    public double Evaluate(IReadOnlyList<TokenizedExample> examples) => LossPerToken(_model, examples, _batchSize, _maxLength);

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

    /// <summary>Greedy packing: consecutive examples are concatenated while they fit in <paramref name="maxLength"/>.</summary>
    public static List<TokenizedExample> Pack(IReadOnlyList<TokenizedExample> examples, int maxLength)
    {
        var packed = new List<TokenizedExample>();
        var ids = new List<long>();
        var loss = new List<bool>();
        foreach (var e in examples)
        {
            if (ids.Count > 0 && ids.Count + e.Ids.Length > maxLength)
            {
                packed.Add(new TokenizedExample([.. ids], [.. loss]));
                ids.Clear(); loss.Clear();
            }
            ids.AddRange(e.Ids);
            loss.AddRange(e.Loss);
            // the first token of the next example is not predicted from this one
            if (loss.Count > e.Loss.Length) loss[^e.Loss.Length] = false;
        }
        if (ids.Count > 0) packed.Add(new TokenizedExample([.. ids], [.. loss]));
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
