using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Tests.Models;
using FineTune.Kit.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Kit.Tests.Training;

public class TrainerTests
{
    /// <summary>A learnable toy task: after the prompt "1 2" comes the prompt's first token + 10.</summary>
    private static List<TokenizedExample> Toy(int n, int seed = 0)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ =>
        {
            long a = rng.Next(1, 10), b = rng.Next(1, 10);
            return TokenizedExample.PromptCompletion([a, b, 20], [a + 10, 22]);
        }).ToList();
    }

    [Fact]
    public void Loss_falls_on_a_learnable_task_with_lora()
    {
        using var model = TinyModels.Random(TinyModels.Llama(tied: true), seed: 2);
        // A random init's tied embeddings (std 0.02) bound the logits behind the final RMSNorm to about ±0.3; a trained
        // model's are far larger. Scale them so that a frozen base can express a confident answer at all.
        using (no_grad()) model.Module.EmbeddingMatrix.mul_(25);
        model.AddLora(r: 8, alpha: 16, targets: ["all-linear"], dropout: 0);
        var train = Toy(64);
        double before = Trainer.LossPerToken(model, train);
        var run = Trainer.For(model).LearningRate(5e-2).Schedule(LrScheduleKind.Constant).Steps(80).BatchSize(16).Seed(3).Fit(train);
        double after = Trainer.LossPerToken(model, train);
        Assert.True(after < before * 0.6, $"loss {before} -> {after}");
        Assert.Equal(80, run.History.Steps.Count);
        Assert.All(run.History.Steps, s => Assert.True(s.TokensPerSecond > 0 && s.RssMb > 0));
    }

    [Fact]
    public void Loss_falls_with_full_fine_tuning()
    {
        using var model = TinyModels.Random(TinyModels.Gpt2(), seed: 2);
        model.UnfreezeAll();
        var train = Toy(64);
        double before = Trainer.LossPerToken(model, train);
        Trainer.For(model).LearningRate(1e-2).Schedule(LrScheduleKind.Constant).Steps(40).BatchSize(16).Seed(3).Fit(train);
        double after = Trainer.LossPerToken(model, train);
        Assert.True(after < before * 0.5, $"loss {before} -> {after}");
    }

    [Fact]
    public void Prompt_tokens_contribute_no_loss()
    {
        using var model = TinyModels.Random(TinyModels.Llama(), seed: 2);
        var e = TokenizedExample.PromptCompletion([1, 2, 3, 4], [5, 6]);
        double loss = Trainer.LossPerToken(model, [e]);
        // by hand: mean of −log p(token | prefix) over the two completion tokens only
        var logits = model.Logits(e.Ids);
        double Nll(int t) { var row = logits[t - 1].Select(v => (double)v).ToArray(); double m = row.Max(); double z = row.Sum(v => Math.Exp(v - m)); return -(row[e.Ids[t]] - m - Math.Log(z)); }
        Assert.Equal((Nll(4) + Nll(5)) / 2, loss, 4);
        // changing a prompt token's target mask changes nothing when it is masked
        var allTokens = TokenizedExample.AllTokens(e.Ids);
        Assert.NotEqual(loss, Trainer.LossPerToken(model, [allTokens]), 4);
        using var batch = TrainingBatch.Collate([e, TokenizedExample.AllTokens([7, 8])], padId: 0, CPU);
        Assert.Equal(new long[] { -100, -100, -100, 5, 6, -100 }, batch.Labels[0].data<long>().ToArray());
        Assert.Equal(new long[] { 8, -100, -100, -100, -100, -100 }, batch.Labels[1].data<long>().ToArray());
        Assert.Equal(3, batch.LossTokens);
    }

    [Fact]
    public void Gradient_accumulation_equals_a_larger_batch()
    {
        var data = Toy(8, seed: 5);
        float[] Run(int batch, int accum)
        {
            using var model = TinyModels.Random(TinyModels.Llama(), seed: 2);
            model.AddLora(r: 4, targets: ["q_proj", "v_proj"], dropout: 0, seed: 1);
            Trainer.For(model).LearningRate(1e-2).Steps(1).BatchSize(batch).GradientAccumulation(accum).Seed(4).Fit(data);
            return model.Module.named_parameters().Where(p => p.name.Contains("lora_")).SelectMany(p => p.parameter.data<float>().ToArray()).ToArray();
        }
        var big = Run(8, 1);
        var accumulated = Run(2, 4);
        for (int i = 0; i < big.Length; i++) Assert.True(Math.Abs(big[i] - accumulated[i]) < 1e-6, $"{i}: {big[i]} vs {accumulated[i]}");
    }

    [Fact]
    public void Resuming_from_a_checkpoint_gives_the_same_final_weights()
    {
        var data = Toy(24, seed: 6);
        var ckpt = TempFolder.Fresh();
        Trainer Configure(CausalLM m) => Trainer.For(m).LearningRate(5e-3).Steps(8).BatchSize(4).GradientAccumulation(2)
            .Schedule(LrScheduleKind.Cosine, warmupSteps: 2).Seed(9);

        using var straight = TinyModels.Random(TinyModels.Llama(), seed: 2);
        straight.AddLora(r: 4, targets: ["q_proj", "v_proj"], dropout: 0.1, seed: 1);
        var full = Configure(straight).Fit(data);

        using var interrupted = TinyModels.Random(TinyModels.Llama(), seed: 2);
        interrupted.AddLora(r: 4, targets: ["q_proj", "v_proj"], dropout: 0.1, seed: 1);
        Assert.Throws<OperationCanceledException>(() => Configure(interrupted).CheckpointEvery(3, ckpt)
            .OnStep(m => { if (m.Step == 5) throw new OperationCanceledException(); }).Fit(data));
        Assert.EndsWith("checkpoint-000003", Checkpoint.Latest(ckpt));

        using var resumed = TinyModels.Random(TinyModels.Llama(), seed: 2);
        resumed.AddLora(r: 4, targets: ["q_proj", "v_proj"], dropout: 0.1, seed: 77);   // A differs: the checkpoint must overwrite it
        var rest = Configure(resumed).CheckpointEvery(3, ckpt).Resume().Fit(data);
        Assert.Equal(8, rest.Steps);
        Assert.Equal(full.History.Steps.Select(s => s.Loss), rest.History.Steps.Select(s => s.Loss));
        CausalLMTests.AssertSameWeights(straight, resumed);
    }

    [Fact]
    public void A_diverging_loss_stops_with_a_clear_message_and_keeps_the_last_good_weights()
    {
        using var model = TinyModels.Random(TinyModels.Llama(), seed: 2);
        var adapter = model.AddLora(r: 4, targets: ["q_proj"], dropout: 0);
        var ckpt = TempFolder.Fresh();
        var lora = adapter.Layers.Values.First();
        var e = Assert.Throws<TrainingDivergedException>(() => Trainer.For(model).LearningRate(1e-3).Steps(10).BatchSize(4).CheckpointEvery(2, ckpt)
            .OnStep(m => { if (m.Step == 4) using (no_grad()) lora.base_layer.parameters().First().fill_(float.NaN); })
            .Fit(Toy(16)));
        Assert.Contains("step 5", e.Message);
        Assert.Contains("checkpoint-000004", e.Message);
        Assert.False(lora.lora_B.weight!.isnan().any().item<bool>());
    }

    [Fact]
    public void Early_stopping_restores_the_best_weights()
    {
        using var model = TinyModels.Random(TinyModels.Llama(), seed: 2);
        model.AddLora(r: 4, targets: ["all-linear"], dropout: 0);
        var train = Toy(32, seed: 1);
        var val = Toy(8, seed: 2);
        // a rate this high overshoots: validation gets worse, and the best step's weights come back
        var run = Trainer.For(model).LearningRate(0.3).Steps(40).BatchSize(8).EvaluateEvery(2).EarlyStopping(patience: 2).Seed(1).Fit(train, val);
        Assert.True(run.StoppedEarly);
        Assert.NotNull(run.BestValLoss);
        Assert.Equal(run.BestValLoss!.Value, Trainer.LossPerToken(model, val), 4);
        Assert.Equal(run.History.Evaluations.Min(s => s.ValLoss!.Value), run.BestValLoss.Value, 6);
    }

    [Fact]
    public void AdamW_matches_torchs_reference_implementation()
    {
        var g = new Generator(3);
        using var w0 = randn([4, 3], generator: g);
        using var b0 = randn([3], generator: g);
        var mine = (W: new TorchSharp.Modules.Parameter(w0.clone()), B: new TorchSharp.Modules.Parameter(b0.clone()));
        var theirs = (W: new TorchSharp.Modules.Parameter(w0.clone()), B: new TorchSharp.Modules.Parameter(b0.clone()));
        var adam = new AdamW([("w", mine.W), ("b", mine.B)], weightDecay: 0.1);
        var reference = optim.AdamW([new TorchSharp.Modules.AdamW.ParamGroup([theirs.W], new TorchSharp.Modules.AdamW.Options { weight_decay = 0.1 }),
            new TorchSharp.Modules.AdamW.ParamGroup([theirs.B], new TorchSharp.Modules.AdamW.Options { weight_decay = 0.0 })], lr: 0.01);
        using var x = randn([5, 4], generator: g);
        for (int step = 0; step < 5; step++)
        {
            adam.ZeroGrad(); reference.zero_grad();
            (x.matmul(mine.W) + mine.B).pow(2).sum().backward();
            (x.matmul(theirs.W) + theirs.B).pow(2).sum().backward();
            adam.Update(0.01);
            reference.step();
        }
        Assert.True(mine.W.allclose(theirs.W, rtol: 1e-5, atol: 1e-6));
        Assert.True(mine.B.allclose(theirs.B, rtol: 1e-5, atol: 1e-6));
    }

    [Theory]
    [InlineData(LrScheduleKind.Constant, 0, 1.0)]
    [InlineData(LrScheduleKind.Linear, 55, 0.5)]
    [InlineData(LrScheduleKind.Cosine, 55, 0.5)]
    [InlineData(LrScheduleKind.Cosine, 10, 1.0)]
    [InlineData(LrScheduleKind.Linear, 100, 0.0)]
    public void Schedules_follow_their_formulas(LrScheduleKind kind, int step, double fraction)
    {
        var s = new LrSchedule(kind, 2.0, WarmupSteps: 10, TotalSteps: 100);
        Assert.Equal(2.0 * 1 / 10, s.At(0), 12);                   // warm-up: (step + 1) / warmup
        Assert.Equal(2.0 * 5 / 10, s.At(4), 12);
        if (step >= 10) Assert.Equal(2.0 * fraction, s.At(step), 12);
        Assert.Equal(2.0 * 0.5 * (1 + Math.Cos(Math.PI * 0.25)), new LrSchedule(LrScheduleKind.Cosine, 2.0, 0, 100).At(25), 12);
    }

    [Fact]
    public void Partial_fine_tuning_unfreezes_only_the_last_blocks()
    {
        using var model = TinyModels.Random(TinyModels.Llama());
        model.UnfreezeLastBlocks(1);
        foreach (var (name, p) in model.Module.named_parameters())
            Assert.Equal(name.StartsWith("model.layers.1.") || name == "model.norm.weight", p.requires_grad);
        Assert.True(model.TrainableParameterCount < model.ParameterCount);
        model.UnfreezeAll();
        Assert.Equal(model.ParameterCount, model.TrainableParameterCount);
    }

    [Fact]
    public void Packing_concatenates_without_predicting_across_examples()
    {
        var packed = Trainer.Pack([TokenizedExample.PromptCompletion([1, 2], [3]), TokenizedExample.PromptCompletion([4], [5, 6]), TokenizedExample.AllTokens([7, 8, 9])], maxLength: 6);
        Assert.Equal(2, packed.Count);
        Assert.Equal(new long[] { 1, 2, 3, 4, 5, 6 }, packed[0].Ids);
        Assert.Equal(new[] { false, false, true, false, true, true }, packed[0].Loss);
    }

    [Fact]
    public void Memory_stays_flat_over_a_long_run()
    {
        using var model = TinyModels.Random(TinyModels.Llama(), seed: 2);
        model.AddLora(r: 4, targets: ["q_proj", "v_proj"], dropout: 0.1);
        long liveAt50 = 0, liveAt300 = 0;
        double rssAt50 = 0, rssAt300 = 0;
        Trainer.For(model).LearningRate(1e-3).Steps(300).BatchSize(4).Seed(1).OnStep(m =>
        {
            if (m.Step == 50) { liveAt50 = DisposeScopeManager.Statistics.ThreadTotalLiveCount; rssAt50 = m.RssMb; }
            if (m.Step == 300) { liveAt300 = DisposeScopeManager.Statistics.ThreadTotalLiveCount; rssAt300 = m.RssMb; }
        }).Fit(Toy(32));
        Assert.Equal(liveAt50, liveAt300);                       // no tensor leaks from the loop
        Assert.True(rssAt300 < rssAt50 * 1.05 + 16, $"RSS {rssAt50:F0} MB at step 50, {rssAt300:F0} MB at step 300");
    }
}
