using FineTune.Kit.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Kit.Preferences;

/// <summary>
/// Direct preference optimisation of a LoRA policy, configured fluently:
/// <c>DpoTrainer.For(model).Beta(0.1).LearningRate(5e-5).Steps(200).Fit(PreferenceData.From(...))</c>.
/// The reference policy is the same model with its adapter switched off (no second copy in memory); its
/// log-probabilities are computed without gradients in the same step. Each step logs, as TRL does, loss,
/// rewards/chosen, rewards/rejected, rewards/accuracies, rewards/margins, logps/chosen and logps/rejected.
/// </summary>
public sealed class DpoTrainer : PreferenceTrainerBase<DpoTrainer>
{
    private double _beta = 0.1, _labelSmoothing;
    private DpoLossKind _loss = DpoLossKind.Sigmoid;
    private bool _precomputeReference;

    private DpoTrainer(CausalLM model) : base(model) { }

    /// <summary>Starts configuring DPO on a model that carries a LoRA adapter.</summary>
    public static DpoTrainer For(CausalLM model) => new(model);

    /// <summary>β: how far the policy may move from the reference (smaller lets it move further).</summary>
    public DpoTrainer Beta(double beta) { _beta = Positive(beta, "beta"); return this; }

    /// <summary>The loss: sigmoid (DPO) or IPO.</summary>
    public DpoTrainer Loss(DpoLossKind kind) { _loss = kind; return this; }

    /// <summary>Conservative DPO: the probability ε in [0, 0.5) that a pair's label is flipped (sigmoid loss only).</summary>
    public DpoTrainer LabelSmoothing(double epsilon)
    {
        _labelSmoothing = epsilon is >= 0 and < 0.5 ? epsilon : throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Label smoothing must be in [0, 0.5).");
        return this;
    }

    /// <summary>
    /// Computes the reference log-probabilities of every pair once, before the first step, instead of in every step:
    /// the reference (the adapter switched off) never changes, so this saves one forward pass per step for the cost of
    /// two numbers per pair. The loss is the same as without it.
    /// </summary>
    public DpoTrainer PrecomputeReference(bool precompute = true) { _precomputeReference = precompute; return this; }

    private protected override IEnumerable<KeyValuePair<string, string>> ObjectiveSettings() =>
    [
        Setting("objective", "dpo"), Setting("beta", _beta), Setting("loss", _loss), Setting("label smoothing", _labelSmoothing),
        Setting("precomputed reference", _precomputeReference),
    ];

    /// <summary>Trains on the pairs and returns the per-step history.</summary>
    public PreferenceRun Fit(PreferenceData data)
    {
        if (data.Count == 0) throw new ArgumentException("No preference pairs to train on.");
        if (_labelSmoothing > 0 && _loss != DpoLossKind.Sigmoid) throw new ArgumentException("Label smoothing (conservative DPO) applies to the sigmoid loss only.");
        ReferencePolicy.Require(Model, "DPO");
        var reference = _precomputeReference ? ReferenceLogProbs(Model, data.Pairs, BatchSizeValue) : null;
        return RunLoop(TotalSteps(data.Count), s =>
        {
            var pairs = BatchAt(data.Pairs, s);
            var b = ScorePairs(Model, pairs, reference);
            var losses = DpoLoss.PerPair(b.Chosen, b.Rejected, b.RefChosen, b.RefRejected, _beta, _loss, _labelSmoothing);
            return (losses.mean(), Figures(b, _beta));
        });
    }

    /// <summary>Summed response log-probabilities of a batch of pairs under the policy (with gradients) and the reference (without).</summary>
    internal static PairLogProbs ScorePairs(CausalLM model, IReadOnlyList<PreferencePair> pairs,
        IReadOnlyDictionary<PreferencePair, (float Chosen, float Rejected)>? precomputed = null)
    {
        var sequences = pairs.Select(p => (p.Prompt, p.Chosen)).Concat(pairs.Select(p => (p.Prompt, p.Rejected))).ToList();
        int n = pairs.Count;
        Tensor policy, reference;
        using (var lp = ResponseLogProbs.Compute(model, sequences)) policy = lp.Summed();
        if (precomputed is not null)
            reference = tensor(pairs.Select(p => precomputed[p].Chosen).Concat(pairs.Select(p => precomputed[p].Rejected)).ToArray(), device: model.Device);
        else
            using (no_grad())
            using (ReferencePolicy.Disabled(model))
            using (var lp = ResponseLogProbs.Compute(model, sequences)) reference = lp.Summed();
        return new PairLogProbs(policy[..n], policy[n..], reference[..n], reference[n..]);
    }

    /// <summary>Summed reference log-probabilities of every pair's responses (the adapter off, no gradients), keyed by the pair itself.</summary>
    internal static Dictionary<PreferencePair, (float Chosen, float Rejected)> ReferenceLogProbs(CausalLM model, IReadOnlyList<PreferencePair> pairs, int batchSize)
    {
        var result = new Dictionary<PreferencePair, (float, float)>(ReferenceEqualityComparer.Instance);
        bool wasTraining = model.Module.training;
        model.Module.train();   // the mode the steps run in, so that the numbers are the ones they would compute
        try
        {
            foreach (var chunk in pairs.Chunk(batchSize))
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                using var off = ReferencePolicy.Disabled(model);
                var sequences = chunk.Select(p => (p.Prompt, p.Chosen)).Concat(chunk.Select(p => (p.Prompt, p.Rejected))).ToList();
                using var lp = ResponseLogProbs.Compute(model, sequences);
                var sums = lp.Summed().cpu().data<float>().ToArray();
                for (int i = 0; i < chunk.Length; i++) result[chunk[i]] = (sums[i], sums[chunk.Length + i]);
            }
        }
        finally { model.Module.train(wasTraining); }
        return result;
    }

    internal static Dictionary<string, double> Figures(PairLogProbs b, double beta)
    {
        using var _ = no_grad();
        var chosen = DpoLoss.ImplicitReward(b.Chosen, b.RefChosen, beta);
        var rejected = DpoLoss.ImplicitReward(b.Rejected, b.RefRejected, beta);
        return new()
        {
            ["rewards/chosen"] = chosen.mean().item<float>(),
            ["rewards/rejected"] = rejected.mean().item<float>(),
            ["rewards/accuracies"] = chosen.gt(rejected).to_type(ScalarType.Float32).mean().item<float>(),
            ["rewards/margins"] = (chosen - rejected).mean().item<float>(),
            ["logps/chosen"] = b.Chosen.mean().item<float>(),
            ["logps/rejected"] = b.Rejected.mean().item<float>(),
        };
    }
}

/// <summary>Summed response log-probabilities of a batch of pairs [pairs] each.</summary>
internal sealed record PairLogProbs(Tensor Chosen, Tensor Rejected, Tensor RefChosen, Tensor RefRejected);
