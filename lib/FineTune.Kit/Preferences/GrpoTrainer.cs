using FineTune.Kit.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Kit.Preferences;

/// <summary>
/// Online RL from rewards with group-relative advantages (GRPO, or RLOO with <see cref="Advantage"/>):
/// <c>GrpoTrainer.For(model).Reward((prompt, completion) =&gt; ...).GroupSize(4).Kl(0.05).Steps(50).Fit(prompts)</c>.
/// Each step samples <see cref="GroupSize"/> completions per prompt from the policy (batched generation with a KV cache),
/// scores them with the reward function and/or a reward model, and minimises the PPO-style clipped policy-gradient
/// loss on the completion tokens plus a per-token k3 KL penalty towards the reference (the model with its adapter off).
/// Token losses are averaged per completion, then over completions. A completion that stops ends with the
/// end-of-sequence token, which is trained like any other token (so the policy learns when to stop); one cut at the
/// token limit has none. Rewards are whatever the function and reward model say about the completion text; no length
/// penalty is added. Beside the mean reward each step logs best_of_n_reward, the mean over prompts of the best of
/// the group's rewards: what reranking n samples would get without training, so a run shows whether RL beat it.
/// </summary>
public sealed class GrpoTrainer : PreferenceTrainerBase<GrpoTrainer>
{
    private Func<long[], long[], double>? _rewardFunction;
    private RewardModel? _rewardModel;
    private double _rewardModelWeight = 1;
    private int _groupSize = 4, _maxNewTokens = 32, _iterations = 1;
    private double _kl = 0.05, _temperature = 1.0, _clip = 0.2, _maxKl = double.PositiveInfinity;
    private AdvantageKind _advantage = AdvantageKind.Grpo;

    private GrpoTrainer(CausalLM model) : base(model) => BatchSizeValue = 2;

    /// <summary>Starts configuring RL on a model that carries a LoRA adapter.</summary>
    public static GrpoTrainer For(CausalLM model) => new(model);

    /// <summary>A reward computed in code from the prompt ids and the completion ids (without the end-of-sequence token).</summary>
    public GrpoTrainer Reward(Func<long[], long[], double> reward) { _rewardFunction = reward; return this; }

    /// <summary>A reward model's score of prompt + completion, times <paramref name="weight"/>, added to any reward function.</summary>
    public GrpoTrainer RewardModel(RewardModel model, double weight = 1) { _rewardModel = model; _rewardModelWeight = weight; return this; }

    /// <summary>Completions sampled per prompt (at least 2).</summary>
    public GrpoTrainer GroupSize(int k) { _groupSize = k >= 2 ? k : throw new ArgumentOutOfRangeException(nameof(k), k, "The group size must be at least 2 (advantages compare completions of one prompt)."); return this; }

    /// <summary>The KL penalty coefficient (0: none).</summary>
    public GrpoTrainer Kl(double coefficient) { _kl = coefficient >= 0 && double.IsFinite(coefficient) ? coefficient : throw new ArgumentOutOfRangeException(nameof(coefficient), coefficient, "The KL coefficient must be 0 or more."); return this; }

    /// <summary>Stop when the mean per-token KL to the reference exceeds this bound.</summary>
    public GrpoTrainer MaxKl(double bound) { _maxKl = Positive(bound, "KL bound"); return this; }

    /// <summary>Most tokens per completion.</summary>
    public GrpoTrainer MaxNewTokens(int n) { _maxNewTokens = AtLeastOne(n, "max new tokens"); return this; }

    /// <summary>Sampling temperature (positive: RL needs varied completions).</summary>
    public GrpoTrainer Temperature(double t) { _temperature = Positive(t, "temperature"); return this; }

    /// <summary>ε of the clipped ratio: the update of a token stops counting once its probability ratio leaves [1−ε, 1+ε].</summary>
    public GrpoTrainer ClipEpsilon(double epsilon) { _clip = Positive(epsilon, "clip epsilon"); return this; }

    /// <summary>Optimizer steps per sampled batch (above 1 the clipped ratio keeps reused samples in check).</summary>
    public GrpoTrainer Iterations(int mu) { _iterations = AtLeastOne(mu, "iterations"); return this; }

    /// <summary>GRPO (standardised by the group) or RLOO (leave-one-out baseline).</summary>
    public GrpoTrainer Advantage(AdvantageKind kind) { _advantage = kind; return this; }

    private protected override IEnumerable<KeyValuePair<string, string>> ObjectiveSettings() =>
    [
        Setting("objective", "grpo"), Setting("group size", _groupSize), Setting("kl", _kl), Setting("max new tokens", _maxNewTokens),
        Setting("temperature", _temperature), Setting("clip epsilon", _clip), Setting("iterations", _iterations), Setting("advantage", _advantage),
        Setting("reward function", _rewardFunction is null ? "none" : "given"),
        Setting("reward model weight", _rewardModel is null ? null : _rewardModelWeight),
    ];

    // a sampled batch serves Iterations steps and its old log-probabilities are not saved: checkpoint between batches only
    private protected override bool CanCheckpointAfter(int step) => (step + 1) % _iterations == 0;

    private protected override string? Divergence(int step, IReadOnlyDictionary<string, double> values) =>
        values.TryGetValue("kl", out var kl) && kl > _maxKl
            ? $"RL stopped at step {step + 1}: the mean KL to the reference is {kl:G4}, past the bound {_maxKl:G4}; lower the learning rate or raise the KL coefficient."
            : null;

    /// <summary>
    /// Prompts per step are set with <c>BatchSize</c>; each step samples BatchSize × GroupSize completions. Sampling is
    /// seeded per batch from the seed, so a run resumed from a checkpoint samples what the uninterrupted run did.
    /// </summary>
    public PreferenceRun Fit(IReadOnlyList<long[]> prompts)
    {
        if (prompts.Count == 0) throw new ArgumentException("No prompts to sample from.");
        if (prompts.FirstOrDefault(p => p.Length == 0) is not null) throw new ArgumentException($"Prompt {prompts.ToList().FindIndex(p => p.Length == 0)} has no tokens.");
        if (_rewardFunction is null && _rewardModel is null) throw new InvalidOperationException("GRPO needs a reward: give Reward(function) and/or RewardModel(model).");
        ReferencePolicy.Require(Model, "GRPO");
        if (CheckpointDirectoryValue is not null && CheckpointEveryValue % _iterations != 0)
            throw new ArgumentException($"CheckpointEvery ({CheckpointEveryValue}) must be a multiple of Iterations ({_iterations}): a checkpoint inside a sampled batch's steps could not be resumed.");
        Rollout? rollout = null;
        int total = StepsValue ?? (EpochsValue ?? 1) * (int)Math.Ceiling((double)prompts.Count / BatchSizeValue) * _iterations;
        try
        {
            return RunLoop(total, s =>
            {
                if (s % _iterations == 0 || rollout is null)    // (a resume starts at a batch boundary)
                {
                    rollout?.Dispose();
                    rollout = Sample(BatchAt(prompts, s / _iterations), s / _iterations);
                }
                return Loss(rollout!);
            });
        }
        finally { rollout?.Dispose(); }
    }

    private Rollout Sample(IReadOnlyList<long[]> batch, int round)
    {
        var replicated = batch.SelectMany(p => Enumerable.Repeat(p, _groupSize)).ToList();
        var generated = Model.Generate(replicated.Select(p => (IReadOnlyList<long>)p).ToList(),
            new GenerationOptions { MaxNewTokens = _maxNewTokens, Temperature = _temperature, Seed = unchecked(SeedValue * 7_919 + round) });
        long? eos = Model.Config.EosTokenIds.Count > 0 ? Model.Config.EosTokenIds[0] : null;
        var completions = generated.Select(c => c.Length < _maxNewTokens && eos is { } e ? [.. c, e] : c).ToList();
        var rewards = new double[replicated.Count];
        if (_rewardFunction is not null)
            for (int i = 0; i < rewards.Length; i++) rewards[i] += _rewardFunction(replicated[i], generated[i]);
        if (_rewardModel is not null)
        {
            var scorable = Enumerable.Range(0, rewards.Length).Where(i => completions[i].Length > 0).ToList();
            var scores = _rewardModel.Score(scorable.Select(i => (replicated[i], completions[i])).ToList());
            for (int j = 0; j < scorable.Count; j++) rewards[scorable[j]] += _rewardModelWeight * scores[j];
        }
        var advantages = GroupAdvantages.Compute(rewards, _groupSize, _advantage);
        // completions with no token (an immediate stop without an end token) carry no log-probability to train
        var trained = Enumerable.Range(0, replicated.Count).Where(i => completions[i].Length > 0).ToList();
        var sequences = trained.Select(i => (replicated[i], completions[i])).ToList();
        Tensor? old = null, reference = null;
        if (sequences.Count > 0)
        {
            using var _ = no_grad();
            using (var lp = ResponseLogProbs.Compute(Model, sequences)) old = lp.Tokens.detach().clone().DetachFromDisposeScope();
            using (ReferencePolicy.Disabled(Model))
            using (var lp = ResponseLogProbs.Compute(Model, sequences)) reference = lp.Tokens.detach().clone().DetachFromDisposeScope();
        }
        return new Rollout(sequences, trained.Select(i => advantages[i]).ToArray(), rewards, generated.Select(c => c.Length).ToArray(), old, reference);
    }

    private (Tensor, Dictionary<string, double>) Loss(Rollout r)
    {
        var figures = new Dictionary<string, double>
        {
            ["reward"] = r.Rewards.Average(),
            ["reward_std"] = Std(r.Rewards),
            ["completion_length"] = r.Lengths.Average(),
            // the best-of-n baseline on the same samples: keep each prompt's highest-rewarded completion
            ["best_of_n_reward"] = r.Rewards.Chunk(_groupSize).Average(g => g.Max()),
        };
        if (r.Sequences.Count == 0)
        {
            figures["kl"] = 0; figures["entropy"] = double.NaN; figures["clip_ratio"] = 0;
            return (zeros(1, requires_grad: true, device: Model.Device).sum(), figures);
        }
        using var lp = ResponseLogProbs.Compute(Model, r.Sequences);
        var advantage = tensor(r.Advantages, dtype: ScalarType.Float32, device: Model.Device).index_select(0, lp.Rows);
        var ratio = (lp.Tokens - r.Old!).exp();
        var clipped = ratio.clamp(1 - _clip, 1 + _clip);
        var surrogate = minimum(ratio * advantage, clipped * advantage);
        var kl = GroupAdvantages.KlK3(lp.Tokens, r.Reference!);
        var perToken = -surrogate + kl * _kl;
        var lengths = lp.Lengths();
        var perSequence = zeros(lp.Count, device: Model.Device).index_add(0, lp.Rows, perToken, 1) / lengths;
        using (no_grad())
        {
            double meanKl = (zeros(lp.Count, device: Model.Device).index_add(0, lp.Rows, kl, 1) / lengths).mean().item<float>();
            figures["kl"] = meanKl;
            figures["entropy"] = lp.Entropy.mean().item<float>();
            figures["clip_ratio"] = ratio.lt(1 - _clip).logical_or(ratio.gt(1 + _clip)).to_type(ScalarType.Float32).mean().item<float>();
        }
        return (perSequence.mean(), figures);
    }

    private static double Std(double[] v)
    {
        double m = v.Average();
        return v.Length < 2 ? 0 : Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / (v.Length - 1));
    }

    private sealed record Rollout(List<(long[] Prompt, long[] Response)> Sequences, double[] Advantages, double[] Rewards, int[] Lengths, Tensor? Old, Tensor? Reference) : IDisposable
    {
        public void Dispose() { Old?.Dispose(); Reference?.Dispose(); }
    }
}
