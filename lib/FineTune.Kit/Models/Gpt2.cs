using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FineTune.Kit.Models;

// GPT-2 (Radford et al., 2019) with Hugging Face's module names: transformer.wte, transformer.h.N.attn.c_attn, …

/// <summary>GPT-2's attention: one Conv1D producing q, k and v, and an output Conv1D.</summary>
public sealed class Gpt2Attention : KitModule
{
    /// <summary>Fused q/k/v projection [hidden, 3·hidden].</summary>
    public nn.Module<Tensor, Tensor> c_attn;
    /// <summary>Output projection.</summary>
    public nn.Module<Tensor, Tensor> c_proj;
    private readonly ModelConfig _cfg;

    internal Gpt2Attention(ModelConfig cfg) : base("Gpt2Attention")
    {
        _cfg = cfg;
        c_attn = new Conv1D(cfg.HiddenSize, 3 * cfg.HiddenSize);
        c_proj = new Conv1D(cfg.HiddenSize, cfg.HiddenSize);
        RegisterComponents();
    }

    internal Tensor Forward(Tensor x, int layer, Tensor allowed, KvCache? cache, bool wantWeights, out Tensor? weights)
    {
        var qkv = c_attn.call(x).split(_cfg.HiddenSize, -1);
        var q = AttentionMath.SplitHeads(qkv[0], _cfg.NumHeads, _cfg.HeadDim);
        var k = AttentionMath.SplitHeads(qkv[1], _cfg.NumHeads, _cfg.HeadDim);
        var v = AttentionMath.SplitHeads(qkv[2], _cfg.NumHeads, _cfg.HeadDim);
        if (cache is not null) (k, v) = cache.Append(layer, k, v);
        var y = AttentionMath.Attend(q, k, v, allowed, wantWeights, out weights, _cfg.Dropout, training);
        return c_proj.call(AttentionMath.MergeHeads(y));
    }
}

/// <summary>GPT-2's MLP: Conv1D up, gelu_new, Conv1D down.</summary>
public sealed class Gpt2Mlp : KitModule
{
    /// <summary>Up projection.</summary>
    public nn.Module<Tensor, Tensor> c_fc;
    /// <summary>Down projection.</summary>
    public nn.Module<Tensor, Tensor> c_proj;
    private readonly string _act;

    internal Gpt2Mlp(ModelConfig cfg) : base("Gpt2Mlp")
    {
        c_fc = new Conv1D(cfg.HiddenSize, cfg.IntermediateSize);
        c_proj = new Conv1D(cfg.IntermediateSize, cfg.HiddenSize);
        _act = cfg.HiddenAct;
        RegisterComponents();
    }

    internal Tensor Forward(Tensor x)
    {
        var h = c_fc.call(x);
        h = _act switch
        {
            "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => F.gelu(h, GELU.Approximate.tanh),
            "gelu" => F.gelu(h),
            "relu" => F.relu(h),
            "silu" or "swish" => F.silu(h),
            _ => throw new ModelFormatException($"GPT-2 activation_function \"{_act}\" is not supported (gelu_new, gelu, relu, silu)."),
        };
        return c_proj.call(h);
    }
}

/// <summary>A GPT-2 block: pre-norm attention and MLP with residuals.</summary>
public sealed class Gpt2Block : KitModule
{
    /// <summary>Norm before attention.</summary>
    public LayerNorm ln_1;
    /// <summary>Attention.</summary>
    public Gpt2Attention attn;
    /// <summary>Norm before the MLP.</summary>
    public LayerNorm ln_2;
    /// <summary>MLP.</summary>
    public Gpt2Mlp mlp;
    private readonly double _dropout;

    internal Gpt2Block(ModelConfig cfg) : base("Gpt2Block")
    {
        ln_1 = nn.LayerNorm(cfg.HiddenSize, cfg.NormEps);
        attn = new Gpt2Attention(cfg);
        ln_2 = nn.LayerNorm(cfg.HiddenSize, cfg.NormEps);
        mlp = new Gpt2Mlp(cfg);
        _dropout = cfg.Dropout;
        RegisterComponents();
    }

    internal Tensor Forward(Tensor x, int layer, Tensor allowed, KvCache? cache, bool wantWeights, out Tensor? weights)
    {
        var a = attn.Forward(ln_1.call(x), layer, allowed, cache, wantWeights, out weights);
        x = x + F.dropout(a, _dropout, training);
        return x + F.dropout(mlp.Forward(ln_2.call(x)), _dropout, training);
    }
}

/// <summary>GPT-2's body: token and position embeddings, blocks, final LayerNorm.</summary>
public sealed class Gpt2Model : KitModule
{
    /// <summary>Token embeddings.</summary>
    public Embedding wte;
    /// <summary>Learned position embeddings.</summary>
    public Embedding wpe;
    /// <summary>The blocks.</summary>
    public ModuleList<Gpt2Block> h;
    /// <summary>Final LayerNorm.</summary>
    public LayerNorm ln_f;

    internal Gpt2Model(ModelConfig cfg) : base("Gpt2Model")
    {
        wte = nn.Embedding(cfg.VocabSize, cfg.HiddenSize);
        wpe = nn.Embedding(cfg.MaxPositions, cfg.HiddenSize);
        h = new ModuleList<Gpt2Block>(Enumerable.Range(0, cfg.NumLayers).Select(_ => new Gpt2Block(cfg)).ToArray());
        ln_f = nn.LayerNorm(cfg.HiddenSize, cfg.NormEps);
        RegisterComponents();
    }
}

/// <summary>GPT-2 with its tied language-model head (`GPT2LMHeadModel`).</summary>
public sealed class Gpt2LMHeadModel : TransformerLM
{
    /// <summary>The body.</summary>
    public Gpt2Model transformer;

    internal Gpt2LMHeadModel(ModelConfig cfg) : base("GPT2LMHeadModel", cfg)
    {
        if (!cfg.TieWordEmbeddings) throw new ModelFormatException("GPT-2 with an untied lm_head is not supported.");
        transformer = new Gpt2Model(cfg);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override IReadOnlyList<KitModule> Blocks => transformer.h.ToList();

    /// <inheritdoc />
    public override Tensor EmbeddingMatrix => transformer.wte.weight!;

    /// <inheritdoc />
    public override Tensor EmbedTokens(Tensor inputIds) => transformer.wte.call(inputIds);

    /// <inheritdoc />
    public override Tensor Head(Tensor hidden, bool applyFinalNorm) =>
        F.linear(applyFinalNorm ? transformer.ln_f.call(hidden) : hidden, transformer.wte.weight!);

    /// <inheritdoc />
    public override ForwardOutput Forward(Tensor? inputIds, Tensor? attentionMask = null, KvCache? cache = null,
        bool outputHiddenStates = false, bool outputAttentions = false, Tensor? inputsEmbeds = null, Tensor? logitPositions = null)
    {
        var x = inputsEmbeds ?? EmbedTokens(inputIds ?? throw new ArgumentException("Give input ids or embeddings."));
        long batch = x.shape[0], time = x.shape[1], past = cache?.Length ?? 0;
        if (past + time > Config.MaxPositions)
            throw new ArgumentException($"Sequence of {past + time} tokens exceeds the model's {Config.MaxPositions} positions (n_positions).");
        var positions = AttentionMath.Positions(batch, time, past, attentionMask, x.device);
        x = x + transformer.wpe.call(positions);
        var allowed = AttentionMath.AllowedMask(batch, time, past, attentionMask, x.device);
        var hidden = outputHiddenStates ? new List<Tensor> { x } : null;
        var attentions = outputAttentions ? new List<Tensor>() : null;
        for (int i = 0; i < transformer.h.Count; i++)
        {
            var block = transformer.h[i];
            Tensor? w = null;
            int index = i;
            x = RunBlock(x, cache, outputAttentions, h => block.Forward(h, index, allowed, cache, outputAttentions, out w));
            if (w is not null) attentions!.Add(w);
            if (hidden is not null && i < transformer.h.Count - 1) hidden.Add(x);
        }
        x = transformer.ln_f.call(x);
        hidden?.Add(x);
        var selected = logitPositions is null ? x : x[logitPositions];
        return new ForwardOutput { Logits = F.linear(selected, transformer.wte.weight!), HiddenStates = hidden, Attentions = attentions };
    }

    internal override string? CanonicalKey(string key)
    {
        if (key.EndsWith(".attn.bias") || key.EndsWith(".attn.masked_bias")) return null;   // causal-mask buffers
        if (key == "lm_head.weight") return null;                                              // tied to wte
        return key.StartsWith("transformer.") ? key : "transformer." + key;
    }
}
