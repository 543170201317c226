using FineTune.Kit.Training;

namespace FineTune.Kit.Preferences;

/// <summary>
/// The preference objectives as the next words after <c>Trainer.For(model)</c>, so a run reads as one sentence:
/// <c>Trainer.For(model).LearningRate(5e-4).Epochs(1).Dpo(beta: 0.1).Fit(pairs)</c>. The settings given to the trainer
/// carry over; those a preference loop does not have are refused by name.
/// </summary>
public static class TrainerObjectives
{
    /// <summary>DPO on the trainer's model (which carries a LoRA adapter; the model without it is the reference).</summary>
    public static DpoTrainer Dpo(this Trainer trainer, double beta = 0.1, DpoLossKind loss = DpoLossKind.Sigmoid)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        return DpoTrainer.For(trainer.Model).Settings(trainer.Settings).Beta(beta).Loss(loss);
    }

    /// <summary>GRPO on the trainer's model: <paramref name="reward"/> scores prompt and completion ids (add a reward model with <c>RewardModel(...)</c>).</summary>
    public static GrpoTrainer Grpo(this Trainer trainer, Func<long[], long[], double>? reward = null, int groupSize = 4, double kl = 0.05)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        var grpo = GrpoTrainer.For(trainer.Model).Settings(trainer.Settings).GroupSize(groupSize).Kl(kl);
        return reward is null ? grpo : grpo.Reward(reward);
    }

    /// <summary>Trains a reward model (a score head attached to the trainer's model) with the trainer's settings.</summary>
    public static RewardTrainer Reward(this Trainer trainer, RewardModel reward)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(reward);
        if (!ReferenceEquals(reward.Model, trainer.Model))
            throw new ArgumentException("Reward: the reward model's head is attached to another model than the trainer's (use RewardModel.Attach(model) on the same model)", nameof(reward));
        return reward.Trainer().Settings(trainer.Settings);
    }
}
