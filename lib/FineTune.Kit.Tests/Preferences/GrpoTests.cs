using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Preferences;
using FineTune.Kit.Tests.Models;
using FineTune.Kit.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Kit.Tests.Preferences;

public class GrpoTests
{
    [Fact]
    public void Advantages_sum_to_zero_per_group_and_match_hand_values()
    {
        double[] rewards = [1, 0, 0, 1, 3, 3, 3, 3, 0.5, 2, -1, 4];
        foreach (var kind in new[] { AdvantageKind.Grpo, AdvantageKind.Rloo })
        {
            var a = GroupAdvantages.Compute(rewards, 4, kind);
            for (int g = 0; g < 3; g++) Assert.Equal(0, a.Skip(4 * g).Take(4).Sum(), 9);
        }
        // GRPO on [1, 0, 0, 1]: mean 0.5, unbiased std sqrt(1/3)
        var grpo = GroupAdvantages.Compute(rewards, 4, AdvantageKind.Grpo);
        Assert.Equal(0.5 / (Math.Sqrt(1.0 / 3) + 1e-4), grpo[0], 9);
        Assert.Equal(0, grpo[4]);        // a group of equal rewards teaches nothing
        // RLOO: r minus the mean of the others
        var rloo = GroupAdvantages.Compute([1, 0, 0, 0], 4, AdvantageKind.Rloo);
        double[] expected = [1, -1.0 / 3, -1.0 / 3, -1.0 / 3];
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], rloo[i], 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => GroupAdvantages.Compute([1, 2], 1, AdvantageKind.Grpo));
    }

    [Fact]
    public void K3_kl_is_never_negative_and_zero_when_the_policy_is_the_reference()
    {
        var g = new Generator(7);
        var a = randn(1000, generator: g) * 3;
        var b = randn(1000, generator: g) * 3;
        Assert.True(GroupAdvantages.KlK3(a, b).min().item<float>() >= 0);

        using var model = TinyModels.Random(TinyModels.Llama(), seed: 3);
        model.AddLora(r: 4, targets: ["all-linear"], dropout: 0, seed: 1);     // fresh: B = 0, so policy == reference
        using var _ = no_grad();
        (long[], long[])[] seqs = [([1, 2], [3, 4, 5]), ([6], [7])];
        using var policy = ResponseLogProbs.Compute(model, seqs);
        Tensor reference;
        using (ReferencePolicy.Disabled(model)) reference = ResponseLogProbs.Compute(model, seqs).Tokens;
        Assert.Equal(0, GroupAdvantages.KlK3(policy.Tokens, reference).abs().max().item<float>());
    }

    [Fact]
    public void Mean_reward_rises_on_a_toy_task()
    {
        // reward 1 when the completion contains token 5; a random tiny model samples it about one time in six
        using var model = TinyModels.Random(TinyModels.Llama(tied: true), seed: 2);
        using (no_grad()) model.Module.EmbeddingMatrix.mul_(10);
        model.AddLora(r: 4, alpha: 8, targets: ["all-linear"], dropout: 0, seed: 1);
        var prompts = Enumerable.Range(1, 8).Select(i => new long[] { i, i + 1 }).ToList();
        var run = GrpoTrainer.For(model).Reward((_, completion) => completion.Contains(5L) ? 1 : 0)
            .GroupSize(8).BatchSize(4).MaxNewTokens(4).Kl(0.01).LearningRate(5e-2).Schedule(LrScheduleKind.Constant)
            .Steps(30).Seed(3).Fit(prompts);
        var rewards = run.History.Steps.Select(s => s["reward"]).ToArray();
        double first = rewards.Take(5).Average(), last = rewards.TakeLast(5).Average();
        Assert.True(last > first + 0.3, $"mean reward {first:F2} -> {last:F2}: {string.Join(" ", rewards.Select(r => r.ToString("F2")))}");
        Assert.All(run.History.Steps, s => Assert.True(s["kl"] >= 0 && s["completion_length"] == 4));
        Assert.Contains("\"clip_ratio\"", run.History.ToJson());
    }

    [Fact]
    public void A_reused_batch_starts_at_ratio_one_then_clips()
    {
        using var model = TinyModels.Random(TinyModels.Llama(tied: true), seed: 2);
        using (no_grad()) model.Module.EmbeddingMatrix.mul_(10);
        model.AddLora(r: 4, alpha: 8, targets: ["all-linear"], dropout: 0, seed: 1);
        var prompts = Enumerable.Range(1, 4).Select(i => new long[] { i, i + 1 }).ToList();
        var run = GrpoTrainer.For(model).Reward((_, completion) => completion.Count(t => t == 5))
            .GroupSize(4).BatchSize(2).MaxNewTokens(4).Iterations(2).ClipEpsilon(0.05).LearningRate(0.2).Schedule(LrScheduleKind.Constant)
            .Steps(4).Seed(3).Fit(prompts);
        var steps = run.History.Steps;
        // steps 1 and 2 share one sampled batch, as do 3 and 4: same rewards; the first use has ratio 1 everywhere
        Assert.Equal(steps[0]["reward"], steps[1]["reward"]);
        Assert.Equal(steps[2]["reward"], steps[3]["reward"]);
        Assert.Equal(0, steps[0]["clip_ratio"]);
        Assert.Equal(0, steps[2]["clip_ratio"]);
        Assert.True(steps[1]["clip_ratio"] > 0, $"clip ratio {steps[1]["clip_ratio"]}");
        Assert.All(steps, s => Assert.True(s["best_of_n_reward"] >= s["reward"]));
    }

    [Fact]
    public void A_kl_past_the_bound_stops_the_run_before_the_update()
    {
        using var model = TinyModels.Random(TinyModels.Llama(tied: true), seed: 2);
        using (no_grad()) model.Module.EmbeddingMatrix.mul_(10);
        var adapter = model.AddLora(r: 4, alpha: 8, targets: ["all-linear"], dropout: 0, seed: 1);
        var steps = new List<PreferenceStep>();
        float[] Weights() => adapter.StateDict().SelectMany(kv => kv.Value.data<float>().ToArray()).ToArray();
        float[]? afterFirst = null;
        var e = Assert.Throws<TrainingDivergedException>(() => GrpoTrainer.For(model).Reward((_, c) => c.Contains(5L) ? 1 : 0)
            .GroupSize(4).BatchSize(2).MaxNewTokens(4).MaxKl(1e-6).LearningRate(0.2).Schedule(LrScheduleKind.Constant)
            .Steps(5).Seed(3).OnStep(s => { steps.Add(s); afterFirst ??= Weights(); }).Fit([[1L, 2L], [3L, 4L]]));
        Assert.Contains("RL stopped at step 2: the mean KL to the reference", e.Message);
        Assert.Single(steps);                                  // step 1 starts at the reference (KL 0) and updates
        Assert.Equal(afterFirst, Weights());                   // step 2 was refused before its update
    }

    [Fact]
    public void Settings_out_of_range_are_refused()
    {
        using var model = TinyModels.Random(TinyModels.Llama(), seed: 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => GrpoTrainer.For(model).GroupSize(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => GrpoTrainer.For(model).Temperature(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => GrpoTrainer.For(model).Kl(-1));
        model.AddLora(r: 2, dropout: 0);
        Assert.Throws<InvalidOperationException>(() => GrpoTrainer.For(model).Steps(1).Fit([[1L, 2L]]));   // no reward given
    }
}
