using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FineTune.Kit.Models;

// Gemma 2 and Gemma 3 (text) with Hugging Face's module names: model.layers.N.self_attn.q_proj,
// model.layers.N.pre_feedforward_layernorm, … Gemma 3 adds q_norm/k_norm and a second RoPE base for its sliding layers.

/// <summary>Gemma's RMSNorm: x / rms(x) · (1 + weight), computed in float32 and only then cast back (weights start at zero).</summary>
public sealed class GemmaRmsNorm : nn.Module<Tensor, Tensor>
{
    /// <summary>Per-channel gain minus one.</summary>
    public Parameter weight;
    private readonly double _eps;

    /// <summary>Creates a Gemma RMSNorm of the given width.</summary>
    public GemmaRmsNorm(long dim, double eps) : base("GemmaRmsNorm")
    {
        weight = new Parameter(zeros(dim));
        _eps = eps;
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var wide = x.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        var x32 = x.to_type(wide);
        var normed = x32 * rsqrt(x32.pow(2).mean([-1], keepdim: true) + _eps);
        // unlike Llama's norm, the gain multiplies before the cast back
        return (normed * (weight.to_type(wide) + 1)).to_type(x.dtype).MoveToOuterDisposeScope();
    }
}

/// <summary>Gemma's attention: scores scaled by query_pre_attn_scalar^-½, optionally soft-capped; Gemma 3 normalises q and k per head.</summary>
public sealed class GemmaAttention : AttentionModule
{
    /// <summary>Query projection.</summary>
    public nn.Module<Tensor, Tensor> q_proj;
    /// <summary>Key projection.</summary>
    public nn.Module<Tensor, Tensor> k_proj;
    /// <summary>Value projection.</summary>
    public nn.Module<Tensor, Tensor> v_proj;
    /// <summary>Output projection.</summary>
    public nn.Module<Tensor, Tensor> o_proj;
    /// <summary>Gemma 3: norm over each query head before RoPE; null for Gemma 2.</summary>
    public GemmaRmsNorm? q_norm;
    /// <summary>Gemma 3: norm over each key head before RoPE; null for Gemma 2.</summary>
    public GemmaRmsNorm? k_norm;
    private readonly ModelConfig _cfg;

    internal GemmaAttention(ModelConfig cfg) : base("GemmaAttention")
    {
        _cfg = cfg;
        q_proj = nn.Linear(cfg.HiddenSize, cfg.NumHeads * cfg.HeadDim, hasBias: cfg.QkvBias);
        k_proj = nn.Linear(cfg.HiddenSize, cfg.NumKvHeads * cfg.HeadDim, hasBias: cfg.QkvBias);
        v_proj = nn.Linear(cfg.HiddenSize, cfg.NumKvHeads * cfg.HeadDim, hasBias: cfg.QkvBias);
        o_proj = nn.Linear(cfg.NumHeads * cfg.HeadDim, cfg.HiddenSize, hasBias: cfg.OutputBias);
        if (cfg.QkNorm)
        {
            q_norm = new GemmaRmsNorm(cfg.HeadDim, cfg.NormEps);
            k_norm = new GemmaRmsNorm(cfg.HeadDim, cfg.NormEps);
        }
        RegisterComponents();
    }

    internal override Tensor Forward(Tensor x, int layer, Tensor cos, Tensor sin, Tensor allowed, KvCache? cache,
        bool wantWeights, out Tensor? weights)
    {
        var q = AttentionMath.SplitHeads(q_proj.call(x), _cfg.NumHeads, _cfg.HeadDim);
        var k = AttentionMath.SplitHeads(k_proj.call(x), _cfg.NumKvHeads, _cfg.HeadDim);
        var v = AttentionMath.SplitHeads(v_proj.call(x), _cfg.NumKvHeads, _cfg.HeadDim);
        if (q_norm is not null) q = q_norm.call(q);
        if (k_norm is not null) k = k_norm.call(k);
        q = AttentionMath.ApplyRope(q, cos, sin);
        k = AttentionMath.ApplyRope(k, cos, sin);
        if (cache is not null) (k, v) = cache.Append(layer, k, v);
        var y = AttentionMath.Attend(q, k, v, allowed, wantWeights, out weights, _cfg.Dropout, training,
            _cfg.AttentionScale, _cfg.AttentionSoftcap);
        return o_proj.call(AttentionMath.MergeHeads(y));
    }
}

/// <summary>GeGLU MLP: down(gelu_tanh(gate(x)) · up(x)).</summary>
public sealed class GemmaMlp : MlpModule
{
    /// <summary>Gate projection.</summary>
    public nn.Module<Tensor, Tensor> gate_proj;
    /// <summary>Up projection.</summary>
    public nn.Module<Tensor, Tensor> up_proj;
    /// <summary>Down projection.</summary>
    public nn.Module<Tensor, Tensor> down_proj;
    private readonly bool _exactGelu;

    internal GemmaMlp(ModelConfig cfg) : base("GemmaMlp")
    {
        _exactGelu = cfg.HiddenAct == "gelu";
        gate_proj = nn.Linear(cfg.HiddenSize, cfg.IntermediateSize, hasBias: false);
        up_proj = nn.Linear(cfg.HiddenSize, cfg.IntermediateSize, hasBias: false);
        down_proj = nn.Linear(cfg.IntermediateSize, cfg.HiddenSize, hasBias: false);
        RegisterComponents();
    }

    internal override Tensor Forward(Tensor x)
    {
        var gate = gate_proj.call(x);
        var act = _exactGelu ? F.gelu(gate) : F.gelu(gate, GELU.Approximate.tanh);
        return down_proj.call(act * up_proj.call(x));
    }
}

/// <summary>
/// A Gemma block, with a norm on each side of both sublayers: x + post_attn(attn(input(x))), then
/// x + post_ff(mlp(pre_ff(x))).
/// </summary>
public sealed class GemmaDecoderLayer : KitModule
{
    /// <summary>Norm before attention.</summary>
    public GemmaRmsNorm input_layernorm;
    /// <summary>Attention.</summary>
    public GemmaAttention self_attn;
    /// <summary>Norm of the attention output, before the residual add.</summary>
    public GemmaRmsNorm post_attention_layernorm;
    /// <summary>Norm before the MLP.</summary>
    public GemmaRmsNorm pre_feedforward_layernorm;
    /// <summary>MLP.</summary>
    public GemmaMlp mlp;
    /// <summary>Norm of the MLP output, before the residual add.</summary>
    public GemmaRmsNorm post_feedforward_layernorm;
    private readonly double _dropout;

    internal GemmaDecoderLayer(ModelConfig cfg) : base("GemmaDecoderLayer")
    {
        input_layernorm = new GemmaRmsNorm(cfg.HiddenSize, cfg.NormEps);
        self_attn = new GemmaAttention(cfg);
        post_attention_layernorm = new GemmaRmsNorm(cfg.HiddenSize, cfg.NormEps);
        pre_feedforward_layernorm = new GemmaRmsNorm(cfg.HiddenSize, cfg.NormEps);
        mlp = new GemmaMlp(cfg);
        post_feedforward_layernorm = new GemmaRmsNorm(cfg.HiddenSize, cfg.NormEps);
        _dropout = cfg.Dropout;
        RegisterComponents();
    }

    internal Tensor Forward(Tensor x, int layer, Tensor cos, Tensor sin, Tensor allowed, KvCache? cache,
        bool wantWeights, out Tensor? weights)
    {
        var a = self_attn.Forward(input_layernorm.call(x), layer, cos, sin, allowed, cache, wantWeights, out weights);
        x = x + F.dropout(post_attention_layernorm.call(a), _dropout, training);
        var m = mlp.Forward(pre_feedforward_layernorm.call(x));
        return x + F.dropout(post_feedforward_layernorm.call(m), _dropout, training);
    }
}

/// <summary>The Gemma body: embeddings, blocks, final norm.</summary>
public sealed class GemmaModel : KitModule
{
    /// <summary>Token embeddings (scaled by √hidden when looked up).</summary>
    public Embedding embed_tokens;
    /// <summary>The blocks.</summary>
    public ModuleList<GemmaDecoderLayer> layers;
    /// <summary>Final norm.</summary>
    public GemmaRmsNorm norm;

    internal GemmaModel(ModelConfig cfg) : base("GemmaModel")
    {
        embed_tokens = nn.Embedding(cfg.VocabSize, cfg.HiddenSize);
        layers = new ModuleList<GemmaDecoderLayer>(Enumerable.Range(0, cfg.NumLayers).Select(_ => new GemmaDecoderLayer(cfg)).ToArray());
        norm = new GemmaRmsNorm(cfg.HiddenSize, cfg.NormEps);
        RegisterComponents();
    }
}

/// <summary>
/// Gemma 2 or Gemma 3 (text) with a language-model head (`Gemma3ForCausalLM`, `Gemma2ForCausalLM`), tied by default.
/// Sliding layers attend to a window of keys and (Gemma 3) rotate with their own RoPE base; the global layers see
/// every earlier key.
/// </summary>
public sealed class GemmaForCausalLM : TransformerLM
{
    /// <summary>The body.</summary>
    public GemmaModel model;
    /// <summary>Output head; null when tied to the embeddings.</summary>
    public nn.Module<Tensor, Tensor>? lm_head;

    private readonly double[]? _globalInvFreq;   // null when it depends on the sequence length (dynamic scaling)
    private readonly double[]? _localInvFreq;    // null when the sliding layers share the global RoPE
    private readonly float _embedScale;

    internal GemmaForCausalLM(ModelConfig cfg) : base("GemmaForCausalLM", cfg)
    {
        if (cfg.WindowedLayers is not { } windowed || windowed.Count != cfg.NumLayers)
            throw new ArgumentException($"Gemma needs one layer type per layer ({cfg.NumLayers}).", nameof(cfg));
        _globalInvFreq = cfg.RopeScaling is { DependsOnLength: true } ? null : RopeFrequencies.Compute(cfg);
        _localInvFreq = cfg.LocalRopeTheta is { } local ? RopeFrequencies.Plain(cfg.RotaryDim, local) : null;
        // √hidden as a float32 constant, rounded again to the embedding dtype when applied (as transformers does)
        _embedScale = (float)Math.Sqrt(cfg.HiddenSize);
        model = new GemmaModel(cfg);
        lm_head = cfg.TieWordEmbeddings ? null : nn.Linear(cfg.HiddenSize, cfg.VocabSize, hasBias: false);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override IReadOnlyList<KitModule> Blocks => model.layers.ToList();

    /// <inheritdoc />
    public override Tensor EmbeddingMatrix => model.embed_tokens.weight!;

    /// <inheritdoc />
    public override Tensor EmbedTokens(Tensor inputIds)
    {
        var e = ComputeType(model.embed_tokens.call(inputIds));
        using var scale = tensor(_embedScale, ScalarType.Float32, e.device).to_type(e.dtype);
        return e * scale;
    }

    /// <inheritdoc />
    public override Tensor Head(Tensor hidden, bool applyFinalNorm)
    {
        var h = applyFinalNorm ? model.norm.call(hidden) : hidden;
        var logits = lm_head is null ? LowPrecisionLinear.Product(h, model.embed_tokens.weight!) : lm_head.call(h);
        return Config.FinalLogitSoftcap is { } cap ? logits.div(cap).tanh().mul(cap) : logits;
    }

    /// <inheritdoc />
    public override ForwardOutput Forward(Tensor? inputIds, Tensor? attentionMask = null, KvCache? cache = null,
        bool outputHiddenStates = false, bool outputAttentions = false, Tensor? inputsEmbeds = null, Tensor? logitPositions = null)
    {
        var x = inputsEmbeds ?? EmbedTokens(inputIds ?? throw new ArgumentException("Give input ids or embeddings."));
        long batch = x.shape[0], time = x.shape[1], past = cache?.Length ?? 0;
        var positions = AttentionMath.Positions(batch, time, past, attentionMask, x.device);
        var globalFreq = _globalInvFreq ?? RopeFrequencies.Compute(Config, positions.max().item<long>() + 1);
        var global = AttentionMath.Rope(positions, globalFreq, x.dtype);
        var local = _localInvFreq is null ? global : AttentionMath.Rope(positions, _localInvFreq, x.dtype);
        Tensor? full = null, windowed = null;
        Tensor Allowed(int layer) => Config.LayerWindow(layer) is { } window
            ? windowed ??= AttentionMath.AllowedMask(batch, time, past, attentionMask, x.device, window)
            : full ??= AttentionMath.AllowedMask(batch, time, past, attentionMask, x.device);
        var hidden = outputHiddenStates ? new List<Tensor> { x } : null;
        var attentions = outputAttentions ? new List<Tensor>() : null;
        for (int i = 0; i < model.layers.Count; i++)
        {
            // the layer's type picks its RoPE, whether or not a window is set
            var (cos, sin) = Config.WindowedLayers![i] ? local : global;
            var (layer, allowed) = (model.layers[i], Allowed(i));
            Tensor? w = null;
            int index = i;
            x = RunBlock(x, cache, outputAttentions, h => layer.Forward(h, index, cos, sin, allowed, cache, outputAttentions, out w));
            if (w is not null) attentions!.Add(w);
            if (hidden is not null && i < model.layers.Count - 1) hidden.Add(x);
        }
        x = model.norm.call(x);
        hidden?.Add(x);
        var selected = logitPositions is null ? x : x[logitPositions];
        return new ForwardOutput { Logits = Head(selected, applyFinalNorm: false), HiddenStates = hidden, Attentions = attentions };
    }

    internal override string? CanonicalKey(string key)
    {
        if (key.Contains("rotary_emb")) return null;              // recomputed from the RoPE bases
        if (key == "lm_head.weight" && Config.TieWordEmbeddings) return null;
        return key;
    }
}
