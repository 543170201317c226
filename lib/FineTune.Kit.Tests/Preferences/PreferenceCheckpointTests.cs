using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Preferences;
using FineTune.Kit.Tests.Models;
using FineTune.Kit.Training;
using static TorchSharp.torch;

namespace FineTune.Kit.Tests.Preferences;

/// <summary>Checkpoints and resume of the reward, DPO and GRPO loops: a resumed run ends where an uninterrupted one does.</summary>
public class PreferenceCheckpointTests
{
    /// <summary>The tiny policy of the DPO tests; a different <paramref name="loraSeed"/> gives other adapter weights for a checkpoint to overwrite.</summary>
    private static CausalLM Policy(int loraSeed = 3, double dropout = 0.1, float embeddingScale = 25)
    {
        var model = TinyModels.Random(TinyModels.Llama(tied: true), 2);
        using (no_grad()) model.Module.EmbeddingMatrix.mul_(embeddingScale);
        model.AddLora(r: 4, alpha: 8, targets: ["all-linear"], dropout: dropout, seed: loraSeed);
        return model;
    }

    private static void Interrupt(PreferenceStep s, int atStep)
    {
        if (s.Step == atStep) throw new OperationCanceledException();
    }

    [Fact]
    public void Resumed_dpo_ends_with_the_same_weights_and_history_as_an_uninterrupted_run()
    {
        var data = DpoTests.Pairs(n: 7);
        var ckpt = TempFolder.Fresh();
        // dropout on, a warm-up and a cosine schedule, and 6 steps of 3 pairs crossing an epoch: all must line up
        DpoTrainer Configure(CausalLM m) => DpoTrainer.For(m).Beta(0.3).LearningRate(2e-2).Schedule(LrScheduleKind.Cosine, warmupSteps: 2)
            .Steps(6).BatchSize(3).WeightDecay(0.1).Seed(9);

        using var straight = Policy();
        var full = Configure(straight).Fit(data);

        using var interrupted = Policy();
        Assert.Throws<OperationCanceledException>(() => Configure(interrupted).CheckpointEvery(2, ckpt).OnStep(s => Interrupt(s, 5)).Fit(data));
        Assert.EndsWith("checkpoint-000004", Checkpoint.Latest(ckpt));
        Assert.Equal("dpo", Checkpoint.ObjectiveOf(Checkpoint.Latest(ckpt)!)[0].Value);

        using var resumed = Policy(loraSeed: 77);          // other adapter weights: the checkpoint must overwrite them
        var rest = Configure(resumed).CheckpointEvery(2, ckpt).Resume().Fit(data);
        Assert.Equal(6, rest.Steps);
        Assert.EndsWith("checkpoint-000006", rest.LastCheckpoint);
        Assert.Equal(full.History.Steps.Select(s => s.Loss), rest.History.Steps.Select(s => s.Loss));
        Assert.Equal(full.History.Steps.Select(s => s["rewards/margins"]), rest.History.Steps.Select(s => s["rewards/margins"]));
        CausalLMTests.AssertSameWeights(straight, resumed);
    }

    [Fact]
    public void Resumed_reward_training_restores_the_score_head_too()
    {
        var data = DpoTests.Pairs(n: 6, seed: 4);
        var ckpt = TempFolder.Fresh();
        CausalLM Model(int loraSeed)
        {
            var model = TinyModels.Random(TinyModels.Llama(), seed: 3);
            RewardModel.Attach(model, seed: 1);
            model.AddLora(r: 4, alpha: 8, targets: ["all-linear"], dropout: 0.1, modulesToSave: [RewardModel.HeadName], seed: loraSeed);
            return model;
        }
        RewardTrainer Configure(CausalLM m) => RewardModel.Attach(m).Trainer().Margin(0.5).LearningRate(3e-2).Steps(5).BatchSize(4).Seed(2);

        using var straight = Model(2);
        var full = Configure(straight).Fit(data);

        using var interrupted = Model(2);
        Assert.Throws<OperationCanceledException>(() => Configure(interrupted).CheckpointEvery(3, ckpt).OnStep(s => Interrupt(s, 4)).Fit(data));

        using var resumed = Model(5);
        // the trained copy of the head starts elsewhere too, so only the checkpoint can make the weights equal
        var headCopy = resumed.Module.named_parameters().Single(p => p.parameter.requires_grad && p.name.StartsWith(RewardModel.HeadName + ".")).parameter;
        using (no_grad()) headCopy.fill_(0.5f);
        var rest = Configure(resumed).CheckpointEvery(3, ckpt).Resume().Fit(data);
        Assert.Equal(full.History.Steps.Select(s => s.Loss), rest.History.Steps.Select(s => s.Loss));
        Assert.Equal(full.History.Steps.Select(s => s["accuracy"]), rest.History.Steps.Select(s => s["accuracy"]));
        CausalLMTests.AssertSameWeights(straight, resumed);
    }

    [Fact]
    public void Resumed_grpo_samples_what_the_uninterrupted_run_sampled_and_ends_with_the_same_weights()
    {
        var prompts = Enumerable.Range(1, 6).Select(i => new long[] { i, i + 1 }).ToList();
        var ckpt = TempFolder.Fresh();
        // two steps per sampled batch: a checkpoint lies between batches, and the resumed run re-samples the next one
        GrpoTrainer Configure(CausalLM m) => GrpoTrainer.For(m).Reward((_, c) => c.Count(t => t == 5)).GroupSize(4).BatchSize(2)
            .MaxNewTokens(4).Iterations(2).Kl(0.05).LearningRate(5e-2).Schedule(LrScheduleKind.Constant).Steps(6).Seed(3);

        using var straight = Policy(loraSeed: 1, embeddingScale: 10);
        var full = Configure(straight).Fit(prompts);

        using var interrupted = Policy(loraSeed: 1, embeddingScale: 10);
        Assert.Throws<OperationCanceledException>(() => Configure(interrupted).CheckpointEvery(2, ckpt).OnStep(s => Interrupt(s, 5)).Fit(prompts));
        Assert.EndsWith("checkpoint-000004", Checkpoint.Latest(ckpt));

        using var resumed = Policy(loraSeed: 8, embeddingScale: 10);
        var rest = Configure(resumed).CheckpointEvery(2, ckpt).Resume().Fit(prompts);
        Assert.Equal(full.History.Steps.Select(s => s["reward"]), rest.History.Steps.Select(s => s["reward"]));
        Assert.Equal(full.History.Steps.Select(s => s.Loss), rest.History.Steps.Select(s => s.Loss));
        // completions of one prompt differ (sampling, not a near-greedy pick), so equal rewards after the resume mean equal samples
        Assert.True(full.History.Steps.Skip(4).All(s => s["reward_std"] > 0), string.Join(" ", full.History.Steps.Select(s => s["reward_std"])));
        CausalLMTests.AssertSameWeights(straight, resumed);
    }

    [Fact]
    public void Grpo_checkpoints_inside_a_sampled_batch_are_refused()
    {
        using var model = Policy();
        var e = Assert.Throws<ArgumentException>(() => GrpoTrainer.For(model).Reward((_, _) => 1).Iterations(2).CheckpointEvery(3, TempFolder.Fresh())
            .Steps(4).Fit([[1L, 2L]]));
        Assert.Contains("CheckpointEvery (3) must be a multiple of Iterations (2)", e.Message);
    }

    [Fact]
    public void Resuming_with_another_beta_or_group_size_names_both_values_unless_forced()
    {
        var data = DpoTests.Pairs(n: 4);
        var ckpt = TempFolder.Fresh();
        using var model = Policy(dropout: 0);
        DpoTrainer Dpo(double beta, double lr) => DpoTrainer.For(model).Beta(beta).LearningRate(lr).BatchSize(2).Steps(2).CheckpointEvery(1, ckpt);
        Dpo(0.1, 1e-3).Fit(data);

        var e = Assert.Throws<KitException>(() => Dpo(0.2, 2e-3).Loss(DpoLossKind.Ipo).Steps(3).Resume().Fit(data));
        Assert.Contains("beta: checkpoint 0.1, now 0.2", e.Message);
        Assert.Contains("loss: checkpoint Sigmoid, now Ipo", e.Message);
        Assert.Contains("learning rate: checkpoint 0.001, now 0.002", e.Message);
        // the same settings with more steps continue; forcing accepts the change
        Assert.Equal(3, Dpo(0.1, 1e-3).Steps(3).Resume().Fit(data).History.Steps.Count);
        Assert.Equal(4, Dpo(0.2, 1e-3).Steps(4).Resume(force: true).Fit(data).History.Steps.Count);

        var grpoDir = TempFolder.Fresh();
        GrpoTrainer Grpo(int k) => GrpoTrainer.For(model).Reward((_, c) => c.Length).GroupSize(k).MaxNewTokens(2).Steps(1).CheckpointEvery(1, grpoDir);
        Grpo(4).Fit([[1L, 2L]]);
        var g = Assert.Throws<KitException>(() => Grpo(2).Steps(2).Resume().Fit([[1L, 2L]]));
        Assert.Contains("group size: checkpoint 4, now 2", g.Message);
    }

    [Fact]
    public void A_checkpoint_of_another_objective_is_refused_even_when_forced()
    {
        var ckpt = TempFolder.Fresh();
        using var model = Policy(dropout: 0);
        DpoTrainer.For(model).BatchSize(2).Steps(1).CheckpointEvery(1, ckpt).Fit(DpoTests.Pairs(n: 2));
        var sft = Enumerable.Range(0, 4).Select(i => TokenizedExample.PromptCompletion([1 + i, 2], [11 + i, 22])).ToList();
        var e = Assert.Throws<KitException>(() => Trainer.For(model).Steps(2).CheckpointEvery(1, ckpt).Resume(force: true).Fit(sft));
        Assert.Contains("written by the dpo objective, not sft", e.Message);

        var sftDir = TempFolder.Fresh();
        Trainer.For(model).Steps(1).BatchSize(2).CheckpointEvery(1, sftDir).Fit(sft);
        var d = Assert.Throws<KitException>(() => DpoTrainer.For(model).Steps(2).CheckpointEvery(1, sftDir).Resume().Fit(DpoTests.Pairs(n: 2)));
        Assert.Contains("written by the sft objective, not dpo", d.Message);
    }

    [Fact]
    public void A_diverging_dpo_loss_names_the_last_good_checkpoint()
    {
        using var model = Policy(dropout: 0);
        var ckpt = TempFolder.Fresh();
        var lora = model.Module.modules().OfType<LoraLinear>().First();
        var e = Assert.Throws<TrainingDivergedException>(() => DpoTrainer.For(model).LearningRate(1e-3).Steps(8).BatchSize(2).CheckpointEvery(2, ckpt)
            .OnStep(s => { if (s.Step == 4) using (no_grad()) lora.base_layer.parameters().First().fill_(float.NaN); })
            .Fit(DpoTests.Pairs(n: 6)));
        Assert.Contains("step 5", e.Message);
        Assert.Contains($"the last good checkpoint is {Path.Combine(ckpt, "checkpoint-000004")}", e.Message);
    }

    [Fact]
    public void A_kl_past_the_bound_names_the_last_good_checkpoint()
    {
        using var model = TinyModels.Random(TinyModels.Llama(tied: true), seed: 2);
        using (no_grad()) model.Module.EmbeddingMatrix.mul_(10);
        model.AddLora(r: 4, alpha: 8, targets: ["all-linear"], dropout: 0, seed: 1);
        var ckpt = TempFolder.Fresh();
        var e = Assert.Throws<TrainingDivergedException>(() => GrpoTrainer.For(model).Reward((_, c) => c.Contains(5L) ? 1 : 0)
            .GroupSize(4).BatchSize(2).MaxNewTokens(4).MaxKl(1e-6).LearningRate(0.2).Schedule(LrScheduleKind.Constant)
            .Steps(5).Seed(3).CheckpointEvery(1, ckpt).Fit([[1L, 2L], [3L, 4L]]));
        Assert.Contains("RL stopped at step 2", e.Message);
        Assert.Contains($"the last good checkpoint is {Path.Combine(ckpt, "checkpoint-000001")}", e.Message);
    }

    [Fact]
    public void Checkpoint_settings_given_to_the_trainer_carry_over_to_the_objectives()
    {
        var ckpt = TempFolder.Fresh();
        using var model = Policy(dropout: 0);
        var dpo = Trainer.For(model).LearningRate(1e-3).Steps(3).BatchSize(2).CheckpointEvery(2, ckpt, keep: 1).Resume().Dpo(beta: 0.2);
        Assert.Equal(ckpt, dpo.SharedSettings.CheckpointDirectory);
        Assert.True(dpo.SharedSettings.Resume);
        var run = dpo.Fit(DpoTests.Pairs(n: 4));
        Assert.EndsWith("checkpoint-000003", run.LastCheckpoint);
        Assert.Single(Directory.GetDirectories(ckpt));          // keep: 1
        Assert.Throws<ArgumentException>(() => DpoTrainer.For(model).CheckpointEvery(0, ckpt));
        Assert.Throws<ArgumentException>(() => DpoTrainer.For(model).CheckpointEvery(1, " "));
    }
}
