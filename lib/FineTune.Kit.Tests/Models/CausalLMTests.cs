using FineTune.Kit.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Kit.Tests.Models;

public class CausalLMTests
{
    private static readonly long[] Ids = [3, 17, 5, 22, 0, 9, 9, 14];

    [Theory]
    [MemberData(nameof(TinyModels.AllConfigs), MemberType = typeof(TinyModels))]
    public void Logits_match_a_naive_double_precision_reference(string family)
    {
        using var model = TinyModels.Random(TinyModels.ByName(family));
        ModelAssert.MatchesReference(model, Ids, what: family);
    }

    [Theory]
    [MemberData(nameof(TinyModels.AllConfigs), MemberType = typeof(TinyModels))]
    public void Logits_with_sharp_attention_match_the_reference(string family)
    {
        using var model = TinyModels.Sharpened(TinyModels.Random(TinyModels.ByName(family)));
        var actual = ModelAssert.MatchesReference(model, Ids, absolute: 1e-3, relative: 1e-3, what: family);
        // the attention pattern now matters: the same weights with uniform-ish attention give clearly different logits
        using var plain = TinyModels.Random(TinyModels.ByName(family));
        double scale = actual.Max(row => row.Max(Math.Abs));
        double moved = ModelAssert.MaxDifference(plain.Logits(Ids), actual);
        Assert.True(moved > 0.01 * scale, $"sharpening the attention moved the logits by {moved:G3} (largest logit {scale:G3})");
    }

    [Theory]
    [MemberData(nameof(TinyModels.AllConfigs), MemberType = typeof(TinyModels))]
    public void Save_then_load_is_bit_exact(string family)
    {
        var dir = TempFolder.Fresh();
        using var model = TinyModels.Random(TinyModels.ByName(family));
        model.Save(dir);
        using var loaded = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        AssertSameWeights(model, loaded);
        Assert.Equal(model.Logits(Ids)[^1], loaded.Logits(Ids)[^1]);
        Assert.Empty(loaded.UnexpectedKeys);
    }

    [Fact]
    public void Sharded_checkpoints_load_like_single_files()
    {
        var dir = TempFolder.Fresh();
        using var model = TinyModels.Random(TinyModels.Llama());
        model.Save(dir, maxShardBytes: 4096);
        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors.index.json")));
        Assert.True(Directory.GetFiles(dir, "model-*-of-*.safetensors").Length > 1);
        using var loaded = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        AssertSameWeights(model, loaded);
    }

    [Fact]
    public void Bf16_checkpoints_load_as_float32_or_keep_their_dtype()
    {
        var dir = TempFolder.Fresh();
        using var model = TinyModels.Random(TinyModels.Llama());
        model.Save(dir, ScalarType.BFloat16);
        var file = SafeTensorFile.Open(Path.Combine(dir, "model.safetensors"));
        Assert.All(file.Entries.Values, e => Assert.Equal("BF16", e.DType));
        using var asF32 = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        using var asBf16 = CausalLM.Load(dir, new LoadOptions { Device = "cpu", KeepDtype = true });
        Assert.Equal(ScalarType.Float32, asF32.DType);
        Assert.Equal(ScalarType.BFloat16, asBf16.DType);
        foreach (var ((name, a), (_, b)) in model.Module.named_parameters().Zip(asF32.Module.named_parameters()))
        {
            using var rounded = a.to_type(ScalarType.BFloat16).to_type(ScalarType.Float32);
            Assert.True(BitEqual(rounded, b), name);
        }
        // a BF16 model saved again keeps its bits
        var dir2 = TempFolder.Fresh();
        asBf16.Save(dir2);
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir, "model.safetensors")), File.ReadAllBytes(Path.Combine(dir2, "model.safetensors")));
        var logits = asBf16.Logits(Ids);
        Assert.All(logits[^1], v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Gpt2_keys_load_with_or_without_the_transformer_prefix()
    {
        var dir = TempFolder.Fresh();
        using var model = TinyModels.Random(TinyModels.Gpt2());
        model.Config.Save(dir);
        var tensors = model.Module.named_parameters()
            .Select(np => new KeyValuePair<string, Tensor>(np.name.Replace("transformer.", ""), np.parameter))
            .Append(new("h.0.attn.bias", ones(1, 1, 64, 64))).ToList();
        SafeTensorFile.Save(Path.Combine(dir, "model.safetensors"), tensors);
        using var loaded = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        AssertSameWeights(model, loaded);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void Kv_cache_greedy_decoding_equals_recomputation(string family)
    {
        using var model = TinyModels.Random(TinyModels.ByName(family), seed: 3);
        // batched generation also equals generating each prompt alone
        ModelAssert.CachedGenerationEqualsRecomputation(model, [new long[] { 1, 2, 3 }, new long[] { 4, 5, 6, 7, 8 }], newTokens: 12);
    }

    [Fact]
    public void Sampling_is_reproducible_with_a_seed_and_respects_top_k_one()
    {
        using var model = TinyModels.Random(TinyModels.Llama(), seed: 4);
        var prompt = new List<IReadOnlyList<long>> { new long[] { 1, 2, 3 } };
        var a = model.Generate(prompt, new GenerationOptions { MaxNewTokens = 10, Temperature = 1.0, Seed = 7 });
        var b = model.Generate(prompt, new GenerationOptions { MaxNewTokens = 10, Temperature = 1.0, Seed = 7 });
        Assert.Equal(a, b);
        var topK1 = model.Generate(prompt, new GenerationOptions { MaxNewTokens = 10, Temperature = 1.5, TopK = 1, Seed = 9 });
        var greedy = model.Generate(prompt, new GenerationOptions { MaxNewTokens = 10 });
        Assert.Equal(greedy, topK1);
        var topPTiny = model.Generate(prompt, new GenerationOptions { MaxNewTokens = 10, Temperature = 1.0, TopP = 1e-6, Seed = 9 });
        Assert.Equal(greedy, topPTiny);
    }

    [Fact]
    public void Generation_stops_at_a_stop_token()
    {
        using var model = TinyModels.Random(TinyModels.Llama(), seed: 5);
        var prompt = new List<IReadOnlyList<long>> { new long[] { 1, 2 } };
        var free = model.Generate(prompt, new GenerationOptions { MaxNewTokens = 8 })[0];
        var stopped = model.Generate(prompt, new GenerationOptions { MaxNewTokens = 8, StopTokens = [free[2]] })[0];
        Assert.Equal(free.TakeWhile(t => t != free[2]).ToArray(), stopped);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void A_padded_batch_equals_unbatched_rows(string family)
    {
        using var model = TinyModels.Random(TinyModels.ByName(family), seed: 6);
        long[] a = [1, 2, 3, 4, 5], b = [6, 7, 8];
        var alone = new[] { model.Logits(a), model.Logits(b) };
        using var _ = no_grad();
        // right padding for b
        using var ids = tensor(new long[,] { { 1, 2, 3, 4, 5 }, { 6, 7, 8, 0, 0 } });
        using var mask = tensor(new long[,] { { 1, 1, 1, 1, 1 }, { 1, 1, 1, 0, 0 } });
        using var outRight = model.Forward(ids, mask);
        // left padding for b
        using var idsL = tensor(new long[,] { { 1, 2, 3, 4, 5 }, { 0, 0, 6, 7, 8 } });
        using var maskL = tensor(new long[,] { { 1, 1, 1, 1, 1 }, { 0, 0, 1, 1, 1 } });
        using var outLeft = model.Forward(idsL, maskL);
        for (int t = 0; t < 5; t++) AssertClose(alone[0][t], outRight.Logits[0, t]);
        for (int t = 0; t < 3; t++)
        {
            AssertClose(alone[1][t], outRight.Logits[1, t]);
            AssertClose(alone[1][t], outLeft.Logits[1, t + 2]);
        }
    }

    [Fact]
    public void Attention_weights_and_hidden_states_are_returned_on_request()
    {
        using var model = TinyModels.Random(TinyModels.Llama());
        using var _ = no_grad();
        using var ids = tensor(Ids).unsqueeze(0);
        using var output = model.Forward(ids, outputHiddenStates: true, outputAttentions: true);
        using var plain = model.Forward(ids);
        Assert.True(output.Logits.allclose(plain.Logits, rtol: 1e-4, atol: 1e-5));
        Assert.Equal(model.Config.NumLayers + 1, output.HiddenStates!.Count);
        Assert.Equal(model.Config.NumLayers, output.Attentions!.Count);
        var w = output.Attentions[0];
        Assert.Equal(new long[] { 1, 4, Ids.Length, Ids.Length }, w.shape);
        Assert.True(w.sum(-1).allclose(ones(1, 4, Ids.Length), atol: 1e-5));
        Assert.Equal(0f, w[0, 0, 0, 1].item<float>());   // causal: the first token cannot see the second
        // the logit lens of the last hidden state is the model's own output
        using var lens = model.Module.Head(output.HiddenStates[^1], applyFinalNorm: false);
        Assert.True(lens.allclose(plain.Logits, atol: 1e-5));
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void Gradients_match_finite_differences_in_float64(string family)
    {
        using var model = TinyModels.Random(TinyModels.ByName(family), seed: 8);
        model.Module.to(ScalarType.Float64);
        using var ids = tensor(new long[] { 3, 1, 4, 1, 5 }).unsqueeze(0);
        using var targets = tensor(new long[] { 1, 4, 1, 5, 9 });
        Tensor Loss()
        {
            using var o = model.Forward(ids);
            return nn.functional.cross_entropy(o.Logits[0], targets);
        }
        var loss = Loss();
        loss.backward();
        var rng = new Random(1);
        foreach (var (name, p) in model.Module.named_parameters().Where((_, i) => i % 3 == 0))
        {
            var flat = p.view(-1);
            int idx = rng.Next((int)flat.shape[0]);
            double analytic = p.grad!.view(-1)[idx].item<double>();
            double eps = 1e-6, orig = flat[idx].item<double>();
            double plus, minus;
            using (no_grad())
            {
                flat[idx] = orig + eps; plus = Loss().item<double>();
                flat[idx] = orig - eps; minus = Loss().item<double>();
                flat[idx] = orig;
            }
            double numeric = (plus - minus) / (2 * eps);
            Assert.True(Math.Abs(analytic - numeric) <= 1e-6 + 1e-4 * Math.Abs(numeric), $"{name}[{idx}]: analytic {analytic} vs numeric {numeric}");
        }
    }

    internal static void AssertSameWeights(CausalLM a, CausalLM b)
    {
        var bw = b.Module.named_parameters().ToDictionary(np => np.name, np => np.parameter);
        foreach (var (name, p) in a.Module.named_parameters())
            Assert.True(BitEqual(p, bw[name]), $"{name} differs");
    }

    internal static bool BitEqual(Tensor a, Tensor b) =>
        a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) &&
        a.detach().cpu().contiguous().bytes.ToArray().AsSpan().SequenceEqual(b.detach().cpu().contiguous().bytes.ToArray());

    private static void AssertClose(float[] expected, Tensor actual)
    {
        var got = actual.data<float>().ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - got[i]) < 1e-4, $"{i}: {expected[i]} vs {got[i]}");
    }
}

public class ScoringTests
{
    [Fact]
    public void Cached_continuation_scores_equal_a_plain_forward_over_each_full_sequence()
    {
        using var model = TinyModels.Random(TinyModels.Llama(), seed: 12);
        long[] prompt = [1, 2, 3, 4];
        long[][] continuations = [[5], [6, 7, 8], [9, 10]];
        var scores = model.ContinuationLogProbs(prompt, continuations);
        for (int r = 0; r < continuations.Length; r++)
        {
            long[] full = [.. prompt, .. continuations[r]];
            var logits = model.Logits(full);
            double expected = 0;
            for (int t = 0; t < continuations[r].Length; t++)
            {
                var row = logits[prompt.Length + t - 1].Select(v => (double)v).ToArray();
                double max = row.Max(), z = row.Sum(v => Math.Exp(v - max));
                expected += row[continuations[r][t]] - max - Math.Log(z);
            }
            Assert.Equal(expected, scores[r], 4);
        }
        var perToken = model.ContinuationLogProbs(prompt, continuations, perToken: true);
        Assert.Equal(scores[1] / 3, perToken[1], 6);
    }

    [Fact]
    public void Label_scoring_picks_the_label_a_constructed_model_prefers()
    {
        using var model = TinyModels.Random(TinyModels.Llama(tied: false), seed: 13);
        // point the head's row for token 7 along the prompt's final hidden state: logit 7 becomes 10, the rest stay small
        using (no_grad())
        {
            using var output = model.Forward(tensor(new long[] { 1, 2, 3 }).unsqueeze(0), outputHiddenStates: true);
            var h = output.HiddenStates![^1][0, -1];
            var head = ((TorchSharp.Modules.Linear)((LlamaForCausalLM)model.Module).lm_head!).weight!;
            head.index_copy_(0, tensor(new long[] { 7 }), (h * 10 / h.dot(h)).unsqueeze(0));
        }
        var scores = model.ContinuationLogProbs([1, 2, 3], [[4], [7], [9]]);
        Assert.Equal(1, Array.IndexOf(scores, scores.Max()));
    }
}
