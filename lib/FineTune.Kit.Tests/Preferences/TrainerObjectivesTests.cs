using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Preferences;
using FineTune.Kit.Tests.Models;
using FineTune.Kit.Training;
using static TorchSharp.torch;

namespace FineTune.Kit.Tests.Preferences;

/// <summary><c>Trainer.For(model).….Dpo()</c> and friends: the trainer's settings carry over, the rest is refused.</summary>
public class TrainerObjectivesTests
{
    private static CausalLM PolicyModel()
    {
        var model = TinyModels.Random(TinyModels.Llama(tied: true), 2);
        using (no_grad()) model.Module.EmbeddingMatrix.mul_(25);
        model.AddLora(r: 4, alpha: 8, targets: ["all-linear"], dropout: 0, seed: 3);
        return model;
    }

    [Fact]
    public void Dpo_after_Trainer_For_runs_exactly_as_DpoTrainer_with_the_same_settings()
    {
        var data = DpoTests.Pairs(n: 7);
        IReadOnlyList<PreferenceStep> ViaTrainer()
        {
            using var model = PolicyModel();
            return Trainer.For(model).LearningRate(2e-2).Schedule(LrScheduleKind.Cosine, warmupSteps: 1).Steps(4).BatchSize(3)
                .WeightDecay(0.1).ClipGradNorm(0.5).Seed(9).Dpo(beta: 0.3).Fit(data).History.Steps;
        }
        IReadOnlyList<PreferenceStep> Direct()
        {
            using var model = PolicyModel();
            return DpoTrainer.For(model).Beta(0.3).LearningRate(2e-2).Schedule(LrScheduleKind.Cosine, warmupSteps: 1).Steps(4).BatchSize(3)
                .WeightDecay(0.1).ClipGradNorm(0.5).Seed(9).Fit(data).History.Steps;
        }
        var a = ViaTrainer();
        var b = Direct();
        Assert.Equal(4, a.Count);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(b[i].Loss, a[i].Loss, 12);
            Assert.Equal(b[i].Lr, a[i].Lr, 12);
        }
        // a different seed or learning rate would change the run, so the equality above means they were carried over
        using var other = PolicyModel();
        var changed = Trainer.For(other).LearningRate(2e-3).Schedule(LrScheduleKind.Cosine, warmupSteps: 1).Steps(4).BatchSize(3)
            .WeightDecay(0.1).ClipGradNorm(0.5).Seed(9).Dpo(beta: 0.3).Fit(data).History.Steps;
        Assert.NotEqual(a[^1].Lr, changed[^1].Lr);
    }

    [Fact]
    public void Settings_a_preference_loop_does_not_have_are_refused_by_name()
    {
        using var model = PolicyModel();
        var e = Assert.Throws<ArgumentException>(() => Trainer.For(model).GradientAccumulation(2).Dpo());
        Assert.Contains("GradientAccumulation", e.Message);
        var r = Assert.Throws<ArgumentException>(() => Trainer.For(model).EvaluateEvery(5).Grpo((_, _) => 1.0));
        Assert.Contains("EvaluateEvery", r.Message);
    }

    [Fact]
    public void A_reward_head_on_another_model_is_refused()
    {
        using var model = PolicyModel();
        using var other = TinyModels.Random(TinyModels.Llama(tied: true), 4);
        var head = RewardModel.Attach(other);
        Assert.Throws<ArgumentException>(() => Trainer.For(model).Reward(head));
    }
}
