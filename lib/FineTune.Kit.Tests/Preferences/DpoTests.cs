using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Preferences;
using FineTune.Kit.Tests.Models;
using FineTune.Kit.Training;
using static TorchSharp.torch;

namespace FineTune.Kit.Tests.Preferences;

public class DpoTests
{
    /// <summary>Hand-made pairs: after a prompt, the chosen response repeats its first token, the rejected one does not.</summary>
    internal static PreferenceData Pairs(int n = 6, int seed = 0)
    {
        var rng = new Random(seed);
        return PreferenceData.FromPairs(Enumerable.Range(0, n).Select(_ =>
        {
            long a = rng.Next(1, 10), b = rng.Next(1, 10);
            return new PreferencePair([a, b, 20], [a, 21], [b + 10, 22]);
        }));
    }

    private static CausalLM PolicyModel(int seed = 2)
    {
        var model = TinyModels.Random(TinyModels.Llama(tied: true), seed);
        using (no_grad()) model.Module.EmbeddingMatrix.mul_(25);   // a frozen random base needs room for confident logits
        model.AddLora(r: 4, alpha: 8, targets: ["all-linear"], dropout: 0, seed: 3);
        return model;
    }

    [Fact]
    public void First_step_loss_is_exactly_log_2_with_a_fresh_adapter()
    {
        using var model = PolicyModel();
        var run = DpoTrainer.For(model).Beta(0.1).LearningRate(1e-3).Steps(1).BatchSize(4).Fit(Pairs());
        var step = run.History.Steps[0];
        Assert.Equal(Math.Log(2), step.Loss, 6);
        Assert.Equal(0, step["rewards/chosen"], 6);
        Assert.Equal(0, step["rewards/margins"], 6);
        Assert.Equal(0, step["rewards/accuracies"]);
        Assert.True(step["logps/chosen"] < 0);
        foreach (var key in new[] { "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected" })
            Assert.Contains($"\"{key}\"", run.History.ToJson());
    }

    [Fact]
    public void Precomputed_reference_log_probabilities_give_the_same_losses_as_computing_them_every_step()
    {
        var data = Pairs(n: 7);
        PreferenceRun Train(bool precompute)
        {
            using var model = PolicyModel();
            return DpoTrainer.For(model).Beta(0.5).LearningRate(2e-2).Schedule(LrScheduleKind.Constant).Steps(5).BatchSize(3)
                .PrecomputeReference(precompute).Fit(data);
        }
        var cached = Train(true).History.Steps;
        var fresh = Train(false).History.Steps;
        Assert.Equal(fresh.Count, cached.Count);
        for (int i = 0; i < fresh.Count; i++)
        {
            Assert.Equal(fresh[i].Loss, cached[i].Loss, 5);
            Assert.Equal(fresh[i]["rewards/margins"], cached[i]["rewards/margins"], 5);
        }
        Assert.NotEqual(fresh[0].Loss, fresh[^1].Loss, 3);     // the steps moved the policy, so the comparison covers trained states
    }

    [Fact]
    public void Its_gradient_raises_the_chosen_margin()
    {
        using var model = PolicyModel();
        var data = Pairs();
        var run = DpoTrainer.For(model).Beta(0.5).LearningRate(2e-2).Schedule(LrScheduleKind.Constant).Steps(8).BatchSize(6).Fit(data);
        // the implicit reward margin over all pairs, computed afresh after training
        var b = DpoTrainer.ScorePairs(model, data.Pairs);
        using var _ = no_grad();
        var margins = ((b.Chosen - b.RefChosen) - (b.Rejected - b.RefRejected)).data<float>().ToArray();
        Assert.All(margins, m => Assert.True(m > 0, $"margin {m}"));
        Assert.True(run.History.Steps[^1].Loss < Math.Log(2) - 0.05, $"loss {run.History.Steps[^1].Loss}");
        Assert.True(run.History.Steps[^1]["rewards/margins"] > run.History.Steps[0]["rewards/margins"]);
        Assert.Equal(1.0, run.History.Steps[^1]["rewards/accuracies"]);
    }

    [Fact]
    public void The_reference_is_the_base_model_logits_with_the_adapter_switched_off()
    {
        using var policy = TinyModels.Random(TinyModels.Llama(), seed: 5);
        using var base_ = TinyModels.Random(TinyModels.Llama(), seed: 5);
        var adapter = policy.AddLora(r: 4, targets: ["all-linear"], dropout: 0, seed: 1);
        using (no_grad()) foreach (var l in adapter.Layers.Values) l.lora_B.weight!.normal_(0, 0.5);
        long[] ids = [1, 2, 3, 4, 5, 6];
        var expected = base_.Logits(ids).SelectMany(r => r).ToArray();
        Assert.NotEqual(expected, policy.Logits(ids).SelectMany(r => r).ToArray());
        float[] reference;
        using (ReferencePolicy.Disabled(policy)) reference = policy.Logits(ids).SelectMany(r => r).ToArray();
        Assert.Equal(expected, reference);
        Assert.All(adapter.Layers.Values, l => Assert.True(l.Enabled));   // switched back on after the scope
    }

    [Fact]
    public void Sigmoid_conservative_and_ipo_losses_match_hand_computed_values()
    {
        // h = (−3 − −4) − (−5 − −4.5) = 1.5
        var (pc, pr, rc, rr) = (tensor(new[] { -3f }), tensor(new[] { -5f }), tensor(new[] { -4f }), tensor(new[] { -4.5f }));
        double beta = 0.5, h = 1.5;
        double Softplus(double x) => Math.Log(1 + Math.Exp(x));
        Assert.Equal(Softplus(-beta * h), DpoLoss.PerPair(pc, pr, rc, rr, beta).item<float>(), 5);
        Assert.Equal(0.9 * Softplus(-beta * h) + 0.1 * Softplus(beta * h),
            DpoLoss.PerPair(pc, pr, rc, rr, beta, DpoLossKind.Sigmoid, labelSmoothing: 0.1).item<float>(), 5);
        Assert.Equal(Math.Pow(h - 1 / (2 * beta), 2), DpoLoss.PerPair(pc, pr, rc, rr, beta, DpoLossKind.Ipo).item<float>(), 5);
        Assert.Equal(0.5, DpoLoss.ImplicitReward(pc, rc, beta).item<float>(), 6);
    }

    [Fact]
    public void A_model_without_an_adapter_or_with_fully_trained_modules_is_refused()
    {
        using var plain = TinyModels.Random(TinyModels.Llama(), seed: 5);
        var e = Assert.Throws<InvalidOperationException>(() => DpoTrainer.For(plain).Steps(1).Fit(Pairs()));
        Assert.Contains("add a LoRA adapter", e.Message);
        using var saved = TinyModels.Random(TinyModels.Llama(), seed: 5);
        saved.AddLora(r: 2, dropout: 0, modulesToSave: ["lm_head"]);
        e = Assert.Throws<InvalidOperationException>(() => DpoTrainer.For(saved).Steps(1).Fit(Pairs()));
        Assert.Contains("lm_head", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => DpoTrainer.For(saved).Beta(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => DpoTrainer.For(saved).LabelSmoothing(0.5));
    }
}
