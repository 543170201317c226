using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Tests.Models;
using FineTune.Kit.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Kit.Tests.Training;

/// <summary>
/// The three ways the kit saves memory in training — activation checkpointing, packing, a bfloat16 frozen base — must
/// not change what is learnt: each is compared with the plain computation on the same batch.
/// </summary>
public class MemorySavingTests
{
    public static IEnumerable<object[]> Families() => TinyModels.AllConfigs();

    /// <summary>
    /// A model with a LoRA adapter on every linear layer whose B is not zero, so every adapter weight gets a gradient.
    /// <paramref name="rounded"/>: the base weights rounded to bfloat16 (and kept float32); <paramref name="stored"/>:
    /// the frozen weights stored in bfloat16, before or after the adapter is added.
    /// </summary>
    private static CausalLM Adapted(ModelConfig config, double dropout, bool rounded = false, bool stored = false, bool storeFirst = false, bool sharpen = true)
    {
        var model = TinyModels.Random(config, seed: 4);
        if (sharpen) TinyModels.Sharpened(model);
        if (rounded)
            using (no_grad())
                foreach (var p in model.Module.parameters().Where(p => p.dim() == 2))      // the weights that are stored: matrices
                    p.copy_(p.to_type(ScalarType.BFloat16));
        if (stored && storeFirst) model.StoreFrozenWeightsIn(ScalarType.BFloat16);
        model.AddLora(r: 4, alpha: 8, targets: ["all-linear"], dropout: dropout, seed: 5);
        if (stored && !storeFirst) model.StoreFrozenWeightsIn(ScalarType.BFloat16);
        var g = new Generator(11);
        using (no_grad())
            foreach (var (name, p) in model.Module.named_parameters().Where(p => p.name.Contains("lora_B")).OrderBy(p => p.name, StringComparer.Ordinal))
                p.copy_(randn(p.shape, generator: g) * 0.1);
        return model;
    }

    private static List<TokenizedExample> Examples() =>
    [
        TokenizedExample.PromptCompletion([1, 2, 3], [4, 5]),
        TokenizedExample.AllTokens([6, 7, 8, 9, 10, 11, 12]),
        TokenizedExample.PromptCompletion([13, 14], [15, 16, 17, 18]),
        TokenizedExample.AllTokens([19, 20, 21]),
    ];

    /// <summary>The summed loss and the gradients of the trainable parameters, by name, for one batch.</summary>
    private static (double Loss, Dictionary<string, Tensor> Grads) LossAndGrads(CausalLM model, IReadOnlyList<TokenizedExample> examples, int seed = 9)
    {
        foreach (var p in model.Module.parameters()) p.grad?.zero_();
        model.Module.train();
        manual_seed(seed);
        using var batch = TrainingBatch.Collate(examples, 0, model.Device);
        var loss = Trainer.SummedLoss(model, batch);
        loss.backward();
        model.Module.eval();
        var grads = model.Module.named_parameters().Where(p => p.parameter.requires_grad)
            .ToDictionary(p => p.name, p => p.parameter.grad!.detach().clone().to_type(ScalarType.Float64));
        return (loss.item<float>(), grads);
    }

    private static void AssertClose(Dictionary<string, Tensor> expected, Dictionary<string, Tensor> actual, double relative)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, e) in expected)
        {
            double scale = e.norm().item<double>(), diff = (actual[name] - e).norm().item<double>();
            Assert.True(scale > 0, $"{name}: no gradient reached it, so the comparison would prove nothing");
            Assert.True(diff <= relative * scale, $"{name}: gradient differs by {diff:G3} (norm {scale:G3})");
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Checkpointed_blocks_give_the_same_loss_and_gradients(string family)
    {
        // dropout on the adapters: the recomputation must draw the same masks as the forward pass did
        using var model = Adapted(TinyModels.ByName(family), dropout: 0.3);
        AssertCheckpointingChangesNothing(model);
    }

    [Fact]
    public void Checkpointing_trains_embeddings_too_when_the_whole_model_trains()
    {
        using var model = TinyModels.Sharpened(TinyModels.Random(TinyModels.Llama(), seed: 4));
        model.UnfreezeAll();
        AssertCheckpointingChangesNothing(model);
    }

    private static void AssertCheckpointingChangesNothing(CausalLM model)
    {
        var (plainLoss, plainGrads) = LossAndGrads(model, Examples());
        model.GradientCheckpointing = true;
        var (loss, grads) = LossAndGrads(model, Examples());
        Assert.Equal(plainLoss, loss, 5);
        AssertClose(plainGrads, grads, 1e-5);
    }

    [Fact]
    public void Checkpointing_is_off_without_gradients_and_leaves_inference_alone()
    {
        using var model = Adapted(TinyModels.Llama(), dropout: 0);
        using var ids = tensor(new long[,] { { 1, 2, 3, 4 } });
        using var plain = model.Module.Forward(ids).Logits;
        model.GradientCheckpointing = true;
        model.Module.train();
        using (no_grad())
        {
            using var checkpointed = model.Module.Forward(ids).Logits;
            Assert.True(plain.allclose(checkpointed, rtol: 0, atol: 0));
        }
    }

    [Fact]
    public void Packed_positions_restart_in_each_segment()
    {
        using var mask = tensor(new long[,] { { 1, 1, 2, 2, 2, 3, 0 }, { 0, 1, 1, 1, 1, 1, 1 } });
        using var positions = AttentionMath.Positions(2, 7, 0, mask, CPU);
        // (a padding token's position is never used: it keeps the count of real tokens before it, as without segments)
        Assert.Equal(new long[] { 0, 1, 0, 1, 2, 0, 5, 0, 0, 1, 2, 3, 4, 5 }, positions.data<long>().ToArray());
        using var allowed = AttentionMath.AllowedMask(2, 7, 0, mask, CPU);
        // the third token (segment 2) sees itself only; the fifth sees the second segment's three tokens
        Assert.Equal(new[] { false, false, true, false, false, false, false }, allowed[0, 0, 2].data<bool>().ToArray());
        Assert.Equal(new[] { false, false, true, true, true, false, false }, allowed[0, 0, 4].data<bool>().ToArray());
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Packed_training_gives_the_same_loss_and_gradients_as_one_example_per_row(string family)
    {
        using var model = Adapted(TinyModels.ByName(family), dropout: 0);
        var examples = Examples();
        var packed = Trainer.Pack(examples, maxLength: 12);
        Assert.Equal(2, packed.Count);                              // 5 + 7, then 6 + 3 tokens
        Assert.Equal(new[] { 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2 }, packed[0].Segments);
        var (plainLoss, plainGrads) = LossAndGrads(model, examples);
        var (loss, grads) = LossAndGrads(model, packed);
        Assert.Equal(plainLoss, loss, 4);
        AssertClose(plainGrads, grads, 1e-4);
    }

    [Fact]
    public void Packing_without_segments_would_differ_so_the_test_can_fail()
    {
        using var model = Adapted(TinyModels.Llama(), dropout: 0);
        var packed = Trainer.Pack(Examples(), maxLength: 12).Select(e => e with { Segments = null }).ToList();
        var (plainLoss, _) = LossAndGrads(model, Examples());
        var (crossing, _) = LossAndGrads(model, packed);
        Assert.True(Math.Abs(plainLoss - crossing) > 1e-3, $"{plainLoss} vs {crossing}");
    }

    [Theory]
    [InlineData("llama", false)]
    [InlineData("llama-tied", true)]
    [InlineData("qwen3", false)]
    [InlineData("phi3", true)]
    [InlineData("gemma3", false)]
    [InlineData("gemma2", true)]
    public void A_bfloat16_stored_base_computes_as_float32_does_with_the_same_weights(string family, bool storeFirst)
    {
        var config = TinyModels.ByName(family);
        using var rounded = Adapted(config, dropout: 0, rounded: true);
        using var stored = Adapted(config, dropout: 0, stored: true, storeFirst: storeFirst);
        var frozen = stored.Module.named_parameters().Where(p => p.parameter.dim() == 2 && !p.name.Contains("lora_")).ToList();
        Assert.True(frozen.Count >= 2 * 4, $"{frozen.Count} matrices");
        Assert.All(frozen, p => Assert.Equal(ScalarType.BFloat16, p.parameter.dtype));
        Assert.All(stored.Module.named_parameters().Where(p => p.parameter.requires_grad), p => Assert.Equal(ScalarType.Float32, p.parameter.dtype));
        // the arithmetic is float32: the same loss and gradients as float32 weights that hold the same (rounded) values
        var (roundedLoss, roundedGrads) = LossAndGrads(rounded, Examples());
        var (storedLoss, storedGrads) = LossAndGrads(stored, Examples());
        Assert.True(Math.Abs(roundedLoss - storedLoss) <= 1e-4 * roundedLoss, $"loss {roundedLoss} vs {storedLoss}");
        AssertClose(roundedGrads, storedGrads, 1e-3);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen3")]
    [InlineData("gemma3")]
    public void A_bfloat16_stored_base_gives_the_float32_step_within_bfloat16_rounding_of_the_weights(string family)
    {
        var config = TinyModels.ByName(family);
        // not sharpened: a very sharp attention makes a tiny model's gradients sensitive to any change of its weights
        using var full = Adapted(config, dropout: 0, sharpen: false);
        using var stored = Adapted(config, dropout: 0, stored: true, sharpen: false);
        var (fullLoss, fullGrads) = LossAndGrads(full, Examples());
        var (storedLoss, storedGrads) = LossAndGrads(stored, Examples());
        Assert.True(Math.Abs(fullLoss - storedLoss) <= 0.01 * Math.Abs(fullLoss), $"loss {fullLoss} vs {storedLoss}");
        // rounding every weight to 8 significant bits moves the step as a whole by a few percent at most
        var names = fullGrads.Keys.Order().ToList();
        using var f = cat(names.Select(n => fullGrads[n].flatten()).ToList());
        using var h = cat(names.Select(n => storedGrads[n].flatten()).ToList());
        double overall = (h - f).norm().item<double>() / f.norm().item<double>();
        Assert.True(overall <= 0.1, $"the adapter gradient differs by {overall:P1} overall");
    }

    [Fact]
    public void Storing_halves_the_frozen_bytes_and_refuses_what_it_cannot_store()
    {
        using var model = TinyModels.Random(TinyModels.Llama(), seed: 4);
        long frozenBytes = model.Module.parameters().Where(p => p.dim() == 2).Sum(p => p.numel() * 4);
        long freed = model.StoreFrozenWeightsIn();
        Assert.Equal(frozenBytes / 2, freed);
        using var gpt2 = TinyModels.Random(TinyModels.Gpt2());
        Assert.Contains("Conv1D", Assert.Throws<ArgumentException>(() => gpt2.StoreFrozenWeightsIn()).Message);
        Assert.Throws<ArgumentException>(() => model.StoreFrozenWeightsIn(ScalarType.Int8));
    }

    [Fact]
    public void A_stored_base_merges_its_trained_adapter()
    {
        using var model = Adapted(TinyModels.Llama(), dropout: 0, stored: true);
        using var ids = tensor(new long[,] { { 1, 2, 3, 4, 5 } });
        using var before = model.Module.Forward(ids).Logits.detach().clone();
        foreach (var l in model.Module.modules().OfType<LoraLinear>()) l.Merge();
        using var merged = model.Module.Forward(ids).Logits;
        // merging adds B·A into the bfloat16 weight: equal within the weight's rounding
        Assert.True(before.allclose(merged, rtol: 0.02, atol: 0.02), $"max difference {(before - merged).abs().max().item<float>()}");
    }

    [Fact]
    public void A_bfloat16_base_trains_with_the_trainer_and_keeps_adapter_and_optimizer_in_float32()
    {
        using var model = Adapted(TinyModels.Llama(tied: true), dropout: 0.1, stored: true);
        var examples = Enumerable.Range(0, 16).SelectMany(_ => Examples()).ToList();
        double before = Trainer.LossPerToken(model, examples);
        Trainer.For(model).LearningRate(2e-2).Steps(30).BatchSize(8).Seed(3).Fit(examples);
        double after = Trainer.LossPerToken(model, examples);
        Assert.True(after < before, $"loss {before} -> {after}");
        Assert.Equal(ScalarType.BFloat16, model.Module.named_parameters().First(p => p.name.EndsWith("base_layer.weight")).parameter.dtype);
    }

    // y = 3x, with TorchSharp's output cache released once the call returns
    private sealed class Triple : autograd.SingleTensorFunction<Triple>
    {
        [ThreadStatic] public static autograd.AutogradContext? Context;
        public override string Name => nameof(Triple);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            ctx.set_materialize_grads(false);
            Context = ctx;
            return ((Tensor)vars[0]) * 3;
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) => [grad_output * 3];
    }

    [Fact]
    public void TorchSharps_unused_output_placeholder_is_released_and_backward_still_works()
    {
        // the kit's TorchSharp keeps the fields the release reads; after another version this fails rather than the
        // bfloat16 base silently costing an activation-sized tensor per layer again
        Assert.True(AutogradOutputCache.Supported);
        var x = ones(1000, requires_grad: true);
        var y = Triple.apply(x);
        Assert.True(AutogradOutputCache.Release(Triple.Context!));
        Assert.False(AutogradOutputCache.Release(Triple.Context!));   // nothing left to release
        y.sum().backward();
        Assert.Equal(3f, x.grad!.mean().item<float>());

        // without gradients there is no cache
        using (no_grad()) Triple.apply(x);
        Assert.False(AutogradOutputCache.Release(Triple.Context!));
    }

    [Fact]
    public void Memory_stays_flat_over_a_long_run_with_every_saver_on()
    {
        using var model = Adapted(TinyModels.Llama(), dropout: 0.1, stored: true);
        model.GradientCheckpointing = true;
        var examples = Enumerable.Range(0, 8).SelectMany(_ => Examples()).ToList();
        long liveAt50 = 0, liveAt300 = 0;
        double rssAt50 = 0, rssAt300 = 0;
        Trainer.For(model).LearningRate(1e-3).Steps(300).BatchSize(4).Packing().Seed(1).OnStep(m =>
        {
            if (m.Step == 50) { liveAt50 = DisposeScopeManager.Statistics.ThreadTotalLiveCount; rssAt50 = m.RssMb; }
            if (m.Step == 300) { liveAt300 = DisposeScopeManager.Statistics.ThreadTotalLiveCount; rssAt300 = m.RssMb; }
        }).Fit(examples);
        Assert.Equal(liveAt50, liveAt300);                       // the recomputation and the widened weights leak no tensor
        Assert.True(rssAt300 < rssAt50 * 1.05 + 16, $"RSS {rssAt50:F0} MB at step 50, {rssAt300:F0} MB at step 300");
    }

    [Theory]
    [InlineData("smollm2-135m", 134_515_008L)]
    [InlineData("qwen3-0.6b", 596_049_920L)]
    [InlineData("gemma3-270m", 268_098_176L)]
    public void Presets_have_the_published_parameter_counts(string name, long parameters)
    {
        var config = ModelPresets.Get(name, maxPositions: 1024);
        using var module = TransformerLM.Create(config);
        Assert.Equal(parameters, module.parameters().Sum(p => p.numel()));
        Assert.Throws<ArgumentException>(() => ModelPresets.Get("llama-70b"));
    }
}
