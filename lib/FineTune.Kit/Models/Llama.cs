using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FineTune.Kit.Models;

// The Llama family (Llama, Qwen2, Mistral, Qwen3; Phi-3's fused projections in Phi3.cs) with Hugging Face's module
// names: model.layers.N.self_attn.q_proj, …

/// <summary>Grouped-query attention with rotary position embeddings (and Qwen3's per-head q/k RMSNorm).</summary>
public sealed class LlamaAttention : AttentionModule
{
    /// <summary>Query projection.</summary>
    public nn.Module<Tensor, Tensor> q_proj;
    /// <summary>Key projection (num_key_value_heads · head_dim outputs).</summary>
    public nn.Module<Tensor, Tensor> k_proj;
    /// <summary>Value projection.</summary>
    public nn.Module<Tensor, Tensor> v_proj;
    /// <summary>Output projection.</summary>
    public nn.Module<Tensor, Tensor> o_proj;
    /// <summary>Qwen3: RMSNorm over each query head before RoPE; null otherwise.</summary>
    public RmsNorm? q_norm;
    /// <summary>Qwen3: RMSNorm over each key head before RoPE; null otherwise.</summary>
    public RmsNorm? k_norm;
    private readonly ModelConfig _cfg;

    internal LlamaAttention(ModelConfig cfg) : base("LlamaAttention")
    {
        _cfg = cfg;
        if (cfg.QkNorm)
        {
            q_norm = new RmsNorm(cfg.HeadDim, cfg.NormEps);
            k_norm = new RmsNorm(cfg.HeadDim, cfg.NormEps);
        }
        q_proj = nn.Linear(cfg.HiddenSize, cfg.NumHeads * cfg.HeadDim, hasBias: cfg.QkvBias);
        k_proj = nn.Linear(cfg.HiddenSize, cfg.NumKvHeads * cfg.HeadDim, hasBias: cfg.QkvBias);
        v_proj = nn.Linear(cfg.HiddenSize, cfg.NumKvHeads * cfg.HeadDim, hasBias: cfg.QkvBias);
        o_proj = nn.Linear(cfg.NumHeads * cfg.HeadDim, cfg.HiddenSize, hasBias: cfg.OutputBias);
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
        var y = AttentionMath.Attend(q, k, v, allowed, wantWeights, out weights, _cfg.Dropout, training);
        return o_proj.call(AttentionMath.MergeHeads(y));
    }
}

/// <summary>SwiGLU MLP: down(silu(gate(x)) · up(x)).</summary>
public sealed class LlamaMlp : MlpModule
{
    /// <summary>Gate projection.</summary>
    public nn.Module<Tensor, Tensor> gate_proj;
    /// <summary>Up projection.</summary>
    public nn.Module<Tensor, Tensor> up_proj;
    /// <summary>Down projection.</summary>
    public nn.Module<Tensor, Tensor> down_proj;

    internal LlamaMlp(ModelConfig cfg) : base("LlamaMlp")
    {
        if (cfg.HiddenAct is not ("silu" or "swish"))
            throw new ModelFormatException($"hidden_act \"{cfg.HiddenAct}\" is not supported for {cfg.ModelType} (expected silu).");
        gate_proj = nn.Linear(cfg.HiddenSize, cfg.IntermediateSize, hasBias: cfg.MlpBias);
        up_proj = nn.Linear(cfg.HiddenSize, cfg.IntermediateSize, hasBias: cfg.MlpBias);
        down_proj = nn.Linear(cfg.IntermediateSize, cfg.HiddenSize, hasBias: cfg.MlpBias);
        RegisterComponents();
    }

    internal override Tensor Forward(Tensor x) => down_proj.call(F.silu(gate_proj.call(x)) * up_proj.call(x));
}

/// <summary>A Llama block: RMSNorm → attention → residual, RMSNorm → MLP → residual.</summary>
public sealed class LlamaDecoderLayer : KitModule
{
    /// <summary>Norm before attention.</summary>
    public RmsNorm input_layernorm;
    /// <summary>Attention (<see cref="LlamaAttention"/>, or <see cref="Phi3Attention"/> for Phi-3).</summary>
    public AttentionModule self_attn;
    /// <summary>Norm before the MLP.</summary>
    public RmsNorm post_attention_layernorm;
    /// <summary>MLP (<see cref="LlamaMlp"/>, or <see cref="Phi3Mlp"/> for Phi-3).</summary>
    public MlpModule mlp;
    private readonly double _dropout;

    internal LlamaDecoderLayer(ModelConfig cfg) : base("LlamaDecoderLayer")
    {
        input_layernorm = new RmsNorm(cfg.HiddenSize, cfg.NormEps);
        bool phi3 = cfg.ModelType == "phi3";
        self_attn = phi3 ? new Phi3Attention(cfg) : new LlamaAttention(cfg);
        post_attention_layernorm = new RmsNorm(cfg.HiddenSize, cfg.NormEps);
        mlp = phi3 ? new Phi3Mlp(cfg) : new LlamaMlp(cfg);
        _dropout = cfg.Dropout;
        RegisterComponents();
    }

    internal Tensor Forward(Tensor x, int layer, Tensor cos, Tensor sin, Tensor allowed, KvCache? cache,
        bool wantWeights, out Tensor? weights)
    {
        var a = self_attn.Forward(input_layernorm.call(x), layer, cos, sin, allowed, cache, wantWeights, out weights);
        x = x + F.dropout(a, _dropout, training);
        return x + F.dropout(mlp.Forward(post_attention_layernorm.call(x)), _dropout, training);
    }
}

/// <summary>The Llama body: embeddings, blocks, final RMSNorm.</summary>
public sealed class LlamaModel : KitModule
{
    /// <summary>Token embeddings.</summary>
    public Embedding embed_tokens;
    /// <summary>The blocks.</summary>
    public ModuleList<LlamaDecoderLayer> layers;
    /// <summary>Final norm.</summary>
    public RmsNorm norm;

    internal LlamaModel(ModelConfig cfg) : base("LlamaModel")
    {
        embed_tokens = nn.Embedding(cfg.VocabSize, cfg.HiddenSize);
        layers = new ModuleList<LlamaDecoderLayer>(Enumerable.Range(0, cfg.NumLayers).Select(_ => new LlamaDecoderLayer(cfg)).ToArray());
        norm = new RmsNorm(cfg.HiddenSize, cfg.NormEps);
        RegisterComponents();
    }
}

/// <summary>Llama, Qwen2, Mistral, Qwen3 or Phi-3 with a language-model head (`LlamaForCausalLM`), tied or untied.</summary>
public sealed class LlamaForCausalLM : TransformerLM
{
    /// <summary>The body.</summary>
    public LlamaModel model;
    /// <summary>Output head; null when tied to the embeddings.</summary>
    public nn.Module<Tensor, Tensor>? lm_head;

    // inverse RoPE frequencies, unless they depend on the sequence length (dynamic scaling)
    private readonly double[]? _invFreq;
    private readonly double _ropeScaling;

    internal LlamaForCausalLM(ModelConfig cfg) : base("LlamaForCausalLM", cfg)
    {
        if (cfg.WindowedLayers is { } windowed && windowed.Count != cfg.NumLayers)
            throw new ArgumentException($"WindowedLayers has {windowed.Count} entries for {cfg.NumLayers} layers.", nameof(cfg));
        _invFreq = cfg.RopeScaling is { DependsOnLength: true } ? null : RopeFrequencies.Compute(cfg);
        _ropeScaling = RopeFrequencies.AttentionScaling(cfg);
        model = new LlamaModel(cfg);
        lm_head = cfg.TieWordEmbeddings ? null : nn.Linear(cfg.HiddenSize, cfg.VocabSize, hasBias: false);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override IReadOnlyList<KitModule> Blocks => model.layers.ToList();

    /// <inheritdoc />
    public override Tensor EmbeddingMatrix => model.embed_tokens.weight!;

    /// <inheritdoc />
    public override Tensor EmbedTokens(Tensor inputIds) => ComputeType(model.embed_tokens.call(inputIds));

    /// <inheritdoc />
    public override Tensor Head(Tensor hidden, bool applyFinalNorm)
    {
        var h = applyFinalNorm ? model.norm.call(hidden) : hidden;
        return lm_head is null ? LowPrecisionLinear.Product(h, model.embed_tokens.weight!) : lm_head.call(h);
    }

    /// <inheritdoc />
    public override ForwardOutput Forward(Tensor? inputIds, Tensor? attentionMask = null, KvCache? cache = null,
        bool outputHiddenStates = false, bool outputAttentions = false, Tensor? inputsEmbeds = null, Tensor? logitPositions = null)
    {
        var x = inputsEmbeds ?? EmbedTokens(inputIds ?? throw new ArgumentException("Give input ids or embeddings."));
        long batch = x.shape[0], time = x.shape[1], past = cache?.Length ?? 0;
        var positions = AttentionMath.Positions(batch, time, past, attentionMask, x.device);
        // dynamic scaling follows the longest sequence in the batch, cached positions included (as transformers does:
        // max(position_ids) + 1); keys already in the cache keep the rotation they were computed with
        var invFreq = _invFreq ?? RopeFrequencies.Compute(Config, positions.max().item<long>() + 1);
        var (cos, sin) = AttentionMath.Rope(positions, invFreq, x.dtype, _ropeScaling);
        Tensor? full = null, windowed = null;
        Tensor Allowed(int layer) => Config.LayerWindow(layer) is { } window
            ? windowed ??= AttentionMath.AllowedMask(batch, time, past, attentionMask, x.device, window)
            : full ??= AttentionMath.AllowedMask(batch, time, past, attentionMask, x.device);
        var hidden = outputHiddenStates ? new List<Tensor> { x } : null;
        var attentions = outputAttentions ? new List<Tensor>() : null;
        for (int i = 0; i < model.layers.Count; i++)
        {
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
        if (key.Contains("rotary_emb.inv_freq")) return null;     // recomputed from rope_theta and rope_scaling
        if (key == "lm_head.weight" && Config.TieWordEmbeddings) return null;
        return key;
    }
}
