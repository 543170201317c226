using FineTune.Kit.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using TextSpan = FineTune.Kit.Text.TokenSpan;

namespace FineTune.Kit.Explain;

/// <summary>The attribution methods <see cref="ModelExplainer"/> runs on a model.</summary>
public enum ExplainMethod
{
    /// <summary>Exact Shapley values by enumerating every coalition (few features only).</summary>
    Exact,
    /// <summary>KernelSHAP with the efficiency constraint.</summary>
    Shap,
    /// <summary>LIME: weighted ridge surrogate on random removals.</summary>
    Lime,
    /// <summary>Integrated gradients on the embedding path.</summary>
    IntegratedGradients,
    /// <summary>Gradient × input on the embeddings.</summary>
    GradientTimesInput,
    /// <summary>Drop of the value when one feature is masked.</summary>
    Occlusion,
}

/// <summary>What to explain and how.</summary>
public sealed record ExplainOptions
{
    /// <summary>The method (KernelSHAP by default).</summary>
    public ExplainMethod Method { get; init; } = ExplainMethod.Shap;
    /// <summary>Text placed before the explained text (not attributed), e.g. an instruction.</summary>
    public string Prefix { get; init; } = "";
    /// <summary>Text placed after the explained text (not attributed), e.g. "\nIntent:".</summary>
    public string Suffix { get; init; } = "";
    /// <summary>Attribute to whole words (default) or to single tokens.</summary>
    public bool Words { get; init; } = true;
    /// <summary>Coalitions for KernelSHAP, samples for LIME (0: the method's default).</summary>
    public int Samples { get; init; }
    /// <summary>Integration points for integrated gradients.</summary>
    public int Steps { get; init; } = 64;
    /// <summary>Seed of sampling methods.</summary>
    public int Seed { get; init; } = Seeds.Default;
    /// <summary>Model rows per forward pass.</summary>
    public int BatchSize { get; init; } = 32;
}

/// <summary>
/// Explains a causal LM's log-probability of a target continuation (a class label, or the next words) given a text:
/// perturbation methods mask features by replacing their tokens with the padding token (recorded in the result as
/// <c>mask_token</c>), gradient methods integrate along the embeddings from the padding token's embedding.
/// </summary>
public static class ModelExplainer
{
    /// <summary>Attributes log p(<paramref name="target"/> | prefix + text + suffix) to the words (or tokens) of the text.</summary>
    public static Attribution Explain(this CausalLM model, string text, string target, ExplainOptions? options = null)
    {
        options ??= new ExplainOptions();
        var input = Prepare(model, text, target, options);
        var features = options.Words ? FeatureSet.FromWords(text, input.Spans) : FeatureSet.FromTokens(text, input.Spans);
        Attribution result;
        if (options.Method is ExplainMethod.IntegratedGradients or ExplainMethod.GradientTimesInput)
        {
            int d = model.Config.HiddenSize;
            var (x, baseline) = input.EmbeddingsAndBaseline(model);
            var layout = InputLayout.Embeddings(features, d);
            result = options.Method == ExplainMethod.IntegratedGradients
                ? new IntegratedGradients().Steps(options.Steps).Explain(x, baseline, input.GradientValue(model), layout)
                : new GradientTimesInput().Explain(x, baseline, input.GradientValue(model), layout);
        }
        else
        {
            CoalitionValue value = features.OverTokens(input.MaskedValue(model, options.BatchSize));
            result = options.Method switch
            {
                ExplainMethod.Exact => new ExactShapley().InBatchesOf(options.BatchSize).ForTarget(target).Explain(features, value),
                ExplainMethod.Shap => (options.Samples > 0 ? new KernelShap().Budget(options.Samples) : new KernelShap())
                    .Seed(options.Seed).InBatchesOf(options.BatchSize).ForTarget(target).Explain(features, value),
                ExplainMethod.Lime => (options.Samples > 0 ? new Lime().Samples(options.Samples) : new Lime())
                    .Seed(options.Seed).InBatchesOf(options.BatchSize).ForTarget(target).Explain(features, value),
                ExplainMethod.Occlusion => new Occlusion().InBatchesOf(options.BatchSize).ForTarget(target).Explain(features, value),
                _ => throw new ArgumentOutOfRangeException(nameof(options)),
            };
        }
        var maskToken = model.RequireTokenizer().IdToToken((int)input.MaskId) ?? input.MaskId.ToString();
        var masking = options.Method is ExplainMethod.IntegratedGradients or ExplainMethod.GradientTimesInput
            ? $"baseline: embedding of {maskToken} for the features' tokens, other tokens at their input" : $"absent tokens replaced by {maskToken}";
        result.Masking = masking;
        return result;
    }

    /// <summary>Attention weights of every layer and head over the tokens of prefix + text: [layer][head][query][key], with the token strings.</summary>
    public static (IReadOnlyList<string> Tokens, float[][][][] Weights) AttentionMaps(this CausalLM model, string text, string prefix = "")
    {
        var tok = model.RequireTokenizer();
        var ids = tok.Encode(prefix + text).Select(i => (long)i).ToArray();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var output = model.Module.Forward(tensor(ids, device: model.Device).unsqueeze(0), outputAttentions: true);
        var weights = output.Attentions!.Select(layer =>
        {
            var w = layer[0].to_type(ScalarType.Float32).cpu();
            int h = (int)w.shape[0], T = (int)w.shape[1];
            var flat = w.data<float>().ToArray();
            return Enumerable.Range(0, h).Select(head => Enumerable.Range(0, T)
                .Select(q => flat.AsSpan((head * T + q) * T, T).ToArray()).ToArray()).ToArray();
        }).ToArray();
        return (ids.Select(i => tok.Decode([(int)i])).ToArray(), weights);
    }

    /// <summary>
    /// The logit lens: at every layer, the last position's hidden state read through the final norm and the output head —
    /// which token it would predict, and how likely the target's first token already is.
    /// </summary>
    public static LogitLensResult LogitLens(this CausalLM model, string text, string target)
    {
        var tok = model.RequireTokenizer();
        var ids = tok.Encode(text).Select(i => (long)i).ToArray();
        int targetId = tok.Encode(target).FirstOrDefault(-1);
        if (targetId < 0) throw new ArgumentException("The target encodes to no tokens.");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var output = model.Module.Forward(tensor(ids, device: model.Device).unsqueeze(0), outputHiddenStates: true);
        var layers = new List<LogitLensLayer>();
        for (int l = 0; l < output.HiddenStates!.Count; l++)
        {
            bool last = l == output.HiddenStates.Count - 1;       // the last entry already went through the final norm
            var probs = F.softmax(model.Module.Head(output.HiddenStates[l][0, -1], applyFinalNorm: !last).to_type(ScalarType.Float32), -1);
            int top = (int)probs.argmax().item<long>();
            layers.Add(new LogitLensLayer(l, tok.Decode([top]), probs[top].item<float>(), probs[targetId].item<float>()));
        }
        return new LogitLensResult(target, layers);
    }

    private static PreparedInput Prepare(CausalLM model, string text, string target, ExplainOptions options)
    {
        var tok = model.RequireTokenizer();
        long[] Enc(string s) => tok.Encode(s).Select(i => (long)i).ToArray();
        var spans = tok.EncodeWithOffsets(text);
        var targetIds = Enc(target);
        if (targetIds.Length == 0) throw new ArgumentException("The target encodes to no tokens.");
        if (spans.Count == 0) throw new ArgumentException("The text encodes to no tokens.");
        long mask = tok.PadId ?? tok.UnkId ?? model.Config.PadTokenId ?? tok.EosId
                    ?? throw new KitException("The tokenizer has no padding, unknown or end-of-sequence token to mask features with.");
        return new PreparedInput(Enc(options.Prefix), spans.Select(s => (long)s.Id).ToArray(), Enc(options.Suffix), targetIds, mask,
            spans.Select(s => new TokenSpan(text.Substring(s.Start, s.Length), s.Start, s.Start + s.Length)).ToArray());
    }

    private sealed record PreparedInput(long[] Prefix, long[] TextIds, long[] Suffix, long[] Target, long MaskId, IReadOnlyList<TokenSpan> Spans)
    {
        private int TargetStart => Prefix.Length + TextIds.Length + Suffix.Length;

        private long[] Row(bool[]? present) =>
            [.. Prefix, .. TextIds.Select((id, i) => present is null || present[i] ? id : MaskId), .. Suffix, .. Target];

        /// <summary>log p(target | …) from logits [B, T, V] for the target positions.</summary>
        private Tensor TargetLogProb(Tensor logits)
        {
            var lp = F.log_softmax(logits.to_type(ScalarType.Float32), -1);
            var positions = arange(TargetStart - 1, TargetStart - 1 + Target.Length, device: logits.device);
            var picked = lp.index_select(1, positions);                                       // [B, n, V]
            var ids = tensor(Target, device: logits.device).view(1, -1, 1).expand(picked.shape[0], -1, 1);
            return picked.gather(2, ids).squeeze(2).sum(1);                                  // [B]
        }

        public CoalitionValue MaskedValue(CausalLM model, int batchSize) => coalitions =>
        {
            var values = new List<double>();
            using var _ = no_grad();
            foreach (var chunk in coalitions.Chunk(batchSize))
            {
                using var scope = NewDisposeScope();
                var rows = chunk.Select(c => Row(c)).ToArray();
                var ids = new long[rows.Length, rows[0].Length];
                for (int r = 0; r < rows.Length; r++) for (int t = 0; t < rows[r].Length; t++) ids[r, t] = rows[r][t];
                using var output = model.Module.Forward(tensor(ids, device: model.Device));
                values.AddRange(TargetLogProb(output.Logits).cpu().data<float>().ToArray().Select(v => (double)v));
            }
            return values.ToArray();
        };

        public (double[] X, double[] Baseline) EmbeddingsAndBaseline(CausalLM model)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var x = model.Module.EmbedTokens(tensor(TextIds, device: model.Device)).to_type(ScalarType.Float64).cpu().data<double>().ToArray();
            var pad = model.Module.EmbedTokens(tensor(new[] { MaskId }, device: model.Device)).to_type(ScalarType.Float64).cpu().data<double>().ToArray();
            var baseline = Enumerable.Range(0, TextIds.Length).SelectMany(_ => pad).ToArray();
            return (x, baseline);
        }

        public GradientValue GradientValue(CausalLM model) => inputs =>
        {
            int n = TextIds.Length, d = model.Config.HiddenSize;
            var frozen = model.Module.parameters().Where(p => p.requires_grad).ToList();
            foreach (var p in frozen) p.requires_grad = false;      // gradients for the input only
            try
            {
                using var scope = NewDisposeScope();
                var dtype = model.DType;
                var batch = inputs.Count;
                var flat = inputs.SelectMany(v => v).Select(v => (float)v).ToArray();
                var textEmb = tensor(flat, device: model.Device).view(batch, n, d).to_type(dtype).requires_grad_(true);
                var before = model.Module.EmbedTokens(tensor(Prefix, device: model.Device)).unsqueeze(0).expand(batch, -1, -1);
                var after = model.Module.EmbedTokens(tensor([.. Suffix, .. Target], device: model.Device)).unsqueeze(0).expand(batch, -1, -1);
                var embeds = cat([before, textEmb, after], 1);
                using var output = model.Module.Forward(null, inputsEmbeds: embeds);
                var value = TargetLogProb(output.Logits);
                value.sum().backward();
                var grads = textEmb.grad!.to_type(ScalarType.Float64).cpu().data<double>().ToArray();
                var values = value.detach().cpu().data<float>().ToArray();
                return Enumerable.Range(0, batch)
                    .Select(b => new ValueAndGradient(values[b], grads.AsSpan(b * n * d, n * d).ToArray())).ToArray();
            }
            finally
            {
                foreach (var p in frozen) p.requires_grad = true;
            }
        };
    }
}
