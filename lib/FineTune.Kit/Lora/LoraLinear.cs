using FineTune.Kit.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FineTune.Kit.Lora;

/// <summary>
/// Low-rank adaptation of a linear layer (Hu et al., 2021): y = W x + (alpha / r) · B A dropout(x).
/// Wraps an nn.Linear or GPT-2's Conv1D and owns A, B, the scaling, merge and unmerge — nothing else.
/// A starts Kaiming-uniform and B at zero, so a fresh adapter leaves the layer's output unchanged.
/// </summary>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>, IAdapterLayer
{
    /// <summary>The wrapped layer (frozen).</summary>
    public nn.Module<Tensor, Tensor> base_layer;
    /// <summary>Down projection A, weight [r, in].</summary>
    public Linear lora_A;
    /// <summary>Up projection B, weight [out, r].</summary>
    public Linear lora_B;
    private readonly double _dropout;

    /// <summary>Wraps <paramref name="baseLayer"/> with a rank-r adapter.</summary>
    public LoraLinear(nn.Module<Tensor, Tensor> baseLayer, int r, double scaling, double dropout, Generator? generator = null)
        : base("LoraLinear")
    {
        if (r <= 0) throw new ArgumentException($"LoRA rank must be positive, got {r}.");
        (InFeatures, OutFeatures, FanInFanOut) = baseLayer switch
        {
            Linear l => (l.weight!.shape[1], l.weight!.shape[0], false),
            Conv1D c => (c.InFeatures, c.OutFeatures, true),
            _ => throw new ArgumentException($"LoRA wraps Linear or Conv1D layers, not {baseLayer.GetType().Name}."),
        };
        var weight = BaseWeight(baseLayer);
        base_layer = baseLayer;
        lora_A = nn.Linear(InFeatures, r, hasBias: false, device: weight.device, dtype: weight.dtype);
        lora_B = nn.Linear(r, OutFeatures, hasBias: false, device: weight.device, dtype: weight.dtype);
        using (no_grad())
        {
            // kaiming_uniform(a = sqrt(5)) as nn.Linear and PEFT use: bound = 1 / sqrt(fan_in)
            double bound = 1.0 / Math.Sqrt(InFeatures);
            lora_A.weight!.uniform_(-bound, bound, generator);
            lora_B.weight!.zero_();
        }
        Rank = r;
        Scaling = scaling;
        _dropout = dropout;
        RegisterComponents();
    }

    /// <summary>Input width.</summary>
    public long InFeatures { get; }
    /// <summary>Output width.</summary>
    public long OutFeatures { get; }
    /// <summary>True for Conv1D, whose weight is stored [in, out].</summary>
    public bool FanInFanOut { get; }
    /// <summary>Rank r.</summary>
    public int Rank { get; }
    /// <summary>The factor on B·A.</summary>
    public double Scaling { get; }
    /// <summary>Whether B·A has been added into the base weight.</summary>
    public bool Merged { get; private set; }
    /// <summary>When false the layer behaves exactly as the base layer.</summary>
    public bool Enabled { get; set; } = true;

    private static Tensor BaseWeight(nn.Module<Tensor, Tensor> layer) => layer switch
    {
        Linear l => l.weight!,
        Conv1D c => c.weight,
        _ => throw new InvalidOperationException(),
    };

    /// <summary>The update as it adds to the base weight's layout: scaling · B·A, transposed for Conv1D.</summary>
    public Tensor DeltaWeight()
    {
        var delta = lora_B.weight!.matmul(lora_A.weight!).mul(Scaling);
        return FanInFanOut ? delta.t() : delta;
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        var y = base_layer.call(x);
        if (!Enabled || Merged) return y;
        var h = _dropout > 0 ? F.dropout(x, _dropout, training) : x;
        return y + lora_B.call(lora_A.call(h)).mul(Scaling);
    }

    /// <summary>Adds the update into the base weight (faster inference, same outputs).</summary>
    public void Merge()
    {
        if (Merged) return;
        using (no_grad()) { using var d = DeltaWeight(); BaseWeight(base_layer).add_(d); }
        Merged = true;
    }

    /// <summary>Subtracts the update from the base weight again.</summary>
    public void Unmerge()
    {
        if (!Merged) return;
        using (no_grad()) { using var d = DeltaWeight(); BaseWeight(base_layer).sub_(d); }
        Merged = false;
    }
}
