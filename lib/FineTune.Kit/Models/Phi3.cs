using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FineTune.Kit.Models;

// Phi-3 (and Phi-4-mini, which shares model_type phi3): the Llama block with fused projections, named as its
// checkpoints name them (self_attn.qkv_proj, mlp.gate_up_proj). LoRA wraps the fused layers whole, as PEFT does.

/// <summary>Attention whose query, key and value projections are one fused layer, [q | k | v] along its outputs.</summary>
public sealed class Phi3Attention : AttentionModule
{
    /// <summary>Fused projection: heads · head_dim query outputs, then kv_heads · head_dim key and value outputs each.</summary>
    public nn.Module<Tensor, Tensor> qkv_proj;
    /// <summary>Output projection.</summary>
    public nn.Module<Tensor, Tensor> o_proj;
    private readonly ModelConfig _cfg;

    internal Phi3Attention(ModelConfig cfg) : base("Phi3Attention")
    {
        _cfg = cfg;
        qkv_proj = nn.Linear(cfg.HiddenSize, (cfg.NumHeads + 2 * cfg.NumKvHeads) * cfg.HeadDim, hasBias: false);
        o_proj = nn.Linear(cfg.NumHeads * cfg.HeadDim, cfg.HiddenSize, hasBias: false);
        RegisterComponents();
    }

    internal override Tensor Forward(Tensor x, int layer, Tensor cos, Tensor sin, Tensor allowed, KvCache? cache,
        bool wantWeights, out Tensor? weights)
    {
        long queryWidth = _cfg.NumHeads * _cfg.HeadDim, kvWidth = _cfg.NumKvHeads * _cfg.HeadDim;
        var qkv = qkv_proj.call(x);
        var q = AttentionMath.SplitHeads(qkv.narrow(-1, 0, queryWidth), _cfg.NumHeads, _cfg.HeadDim);
        var k = AttentionMath.SplitHeads(qkv.narrow(-1, queryWidth, kvWidth), _cfg.NumKvHeads, _cfg.HeadDim);
        var v = AttentionMath.SplitHeads(qkv.narrow(-1, queryWidth + kvWidth, kvWidth), _cfg.NumKvHeads, _cfg.HeadDim);
        // with partial_rotary_factor < 1 the tables cover only the first RotaryDim channels of each head
        q = AttentionMath.ApplyRope(q, cos, sin);
        k = AttentionMath.ApplyRope(k, cos, sin);
        if (cache is not null) (k, v) = cache.Append(layer, k, v);
        var y = AttentionMath.Attend(q, k, v, allowed, wantWeights, out weights, _cfg.Dropout, training);
        return o_proj.call(AttentionMath.MergeHeads(y));
    }
}

/// <summary>SwiGLU with the gate and up projections fused: [gate | up] = gate_up_proj(x); down(up · silu(gate)).</summary>
public sealed class Phi3Mlp : MlpModule
{
    /// <summary>Fused projection: intermediate_size gate outputs, then intermediate_size up outputs.</summary>
    public nn.Module<Tensor, Tensor> gate_up_proj;
    /// <summary>Down projection.</summary>
    public nn.Module<Tensor, Tensor> down_proj;
    private readonly long _intermediate;

    internal Phi3Mlp(ModelConfig cfg) : base("Phi3Mlp")
    {
        if (cfg.HiddenAct is not ("silu" or "swish"))
            throw new ModelFormatException($"hidden_act \"{cfg.HiddenAct}\" is not supported for {cfg.ModelType} (expected silu).");
        _intermediate = cfg.IntermediateSize;
        gate_up_proj = nn.Linear(cfg.HiddenSize, 2 * cfg.IntermediateSize, hasBias: false);
        down_proj = nn.Linear(cfg.IntermediateSize, cfg.HiddenSize, hasBias: false);
        RegisterComponents();
    }

    internal override Tensor Forward(Tensor x)
    {
        var gateUp = gate_up_proj.call(x);
        var gate = gateUp.narrow(-1, 0, _intermediate);
        var up = gateUp.narrow(-1, _intermediate, _intermediate);
        return down_proj.call(up * F.silu(gate));
    }
}
