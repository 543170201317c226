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
/// Over a half-precision base (bfloat16, float16) A and B are float32, as PEFT's default <c>autocast_adapter_dtype</c>
/// makes them: the frozen base saves memory, while the trained weights and their optimizer state keep full precision.
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

    /// <summary>Wraps <paramref name="baseLayer"/> with a rank-r adapter; <paramref name="name"/> (the module path) names the layer in errors.</summary>
    public LoraLinear(nn.Module<Tensor, Tensor> baseLayer, int r, double scaling, double dropout, Generator? generator = null, string? name = null)
        : base("LoraLinear")
    {
        LayerName = name ?? "LoRA layer";
        if (r <= 0) throw new ArgumentException($"LoRA rank must be positive, got {r}.");
        (InFeatures, OutFeatures, FanInFanOut) = baseLayer switch
        {
            Linear l => (l.weight!.shape[1], l.weight!.shape[0], false),
            Conv1D c => (c.InFeatures, c.OutFeatures, true),
            LowPrecisionLinear h => (h.InFeatures, h.OutFeatures, false),
            _ => throw new ArgumentException($"LoRA wraps Linear or Conv1D layers, not {baseLayer.GetType().Name}."),
        };
        var weight = BaseWeight(baseLayer);
        base_layer = baseLayer;
        var adapterType = AdapterTypeFor(weight.dtype);
        lora_A = nn.Linear(InFeatures, r, hasBias: false, device: weight.device, dtype: adapterType);
        lora_B = nn.Linear(r, OutFeatures, hasBias: false, device: weight.device, dtype: adapterType);
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
    /// <summary>The module path of the wrapped layer (e.g. <c>model.layers.0.self_attn.q_proj</c>), for messages.</summary>
    public string LayerName { get; }
    /// <inheritdoc />
    public nn.Module<Tensor, Tensor> BaseLayer => base_layer;

    /// <inheritdoc />
    public void ReplaceBaseLayer(nn.Module<Tensor, Tensor> replacement)
    {
        var (before, after) = (BaseWeight(base_layer), BaseWeight(replacement));
        if (!before.shape.SequenceEqual(after.shape))
            throw new ArgumentException($"{LayerName}: the replacement's weight is [{string.Join(", ", after.shape)}], the layer's [{string.Join(", ", before.shape)}].");
        base_layer = replacement;
        _internal_submodules[nameof(base_layer)] = replacement;
    }

    /// <summary>Whether B·A has been added into the base weight.</summary>
    public bool Merged { get; private set; }

    /// <summary>
    /// When false the layer behaves exactly as the base layer. Disabling a merged adapter first unmerges it (as PEFT
    /// does): a merged update lives in the base weight, so merely skipping the adapter path would leave it in force.
    /// </summary>
    public bool Enabled
    {
        get => _enabled;
        set
        {
            if (!value && Merged) Unmerge();
            _enabled = value;
        }
    }
    private bool _enabled = true;

    /// <summary>The dtype A and B take over a base weight of <paramref name="baseType"/>: float32 over half precision, else the base's.</summary>
    public static ScalarType AdapterTypeFor(ScalarType baseType) =>
        baseType is ScalarType.BFloat16 or ScalarType.Float16 ? ScalarType.Float32 : baseType;

    private static Tensor BaseWeight(nn.Module<Tensor, Tensor> layer) => layer switch
    {
        Linear l => l.weight!,
        Conv1D c => c.weight,
        LowPrecisionLinear h => h.weight,
        _ => throw new InvalidOperationException(),
    };

    /// <summary>
    /// The update as it adds to the base weight's layout: scaling · B·A, transposed for Conv1D. Float32 also for
    /// half-precision weights (float64 for float64 ones), so that the product and the scaling are not rounded to 16
    /// bits on the way.
    /// </summary>
    public Tensor DeltaWeight()
    {
        using var b = lora_B.weight!.detach().to_type(WideType);
        using var a = lora_A.weight!.detach().to_type(WideType);
        using var product = b.matmul(a);
        var delta = product.mul(Scaling);
        if (!FanInFanOut) return delta;
        using (delta) return delta.t().contiguous();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        var y = base_layer.call(x);
        if (!Enabled || Merged) return y;
        var h = _dropout > 0 ? F.dropout(x, _dropout, training) : x;
        var adapterType = lora_A.weight!.dtype;
        if (h.dtype == adapterType) return y + lora_B.call(lora_A.call(h)).mul(Scaling);
        // a half-precision base: the low-rank path runs in the adapter's float32 and its result joins the base output's type
        return y + lora_B.call(lora_A.call(h.to_type(adapterType))).mul(Scaling).to_type(y.dtype);
    }

    /// <summary>
    /// Adds the update into the base weight (faster inference, same outputs). The sum is formed in float32 (float64 for
    /// float64 weights) and checked before anything is written: an update or a result that is NaN or infinite in the
    /// weight's type (a diverged adapter, or an overflow of half precision) is refused with an error naming the layer,
    /// and the weight is left as it was.
    /// </summary>
    /// <exception cref="KitException">The merged weight would hold NaN or infinite values.</exception>
    /// <exception cref="InvalidOperationException">The adapter is disabled.</exception>
    public void Merge()
    {
        if (Merged) return;
        if (!Enabled) throw new InvalidOperationException($"{LayerName}: cannot merge a disabled LoRA adapter; enable it first.");
        WriteBaseWeight(sign: +1);
        Merged = true;
    }

    /// <summary>Subtracts the update from the base weight again (in float32, like <see cref="Merge"/>).</summary>
    public void Unmerge()
    {
        if (!Merged) return;
        WriteBaseWeight(sign: -1);
        Merged = false;
    }

    private void WriteBaseWeight(int sign)
    {
        using var _ = no_grad();
        var weight = BaseWeight(base_layer);
        using var delta = DeltaWeight();
        long badDelta = NonFinite(delta);
        if (badDelta > 0)
            throw new KitException($"{LayerName}: the LoRA update B·A holds {badDelta} NaN or infinite values; the base weight was not changed.");
        using var wide = weight.to_type(WideType);
        using var sum = sign > 0 ? wide.add(delta) : wide.sub(delta);
        using var result = sum.to_type(weight.dtype);
        long badResult = NonFinite(result);
        if (badResult > 0)
            throw new KitException($"{LayerName}: {(sign > 0 ? "merging" : "unmerging")} the LoRA update would put {badResult} NaN or infinite " +
                                   $"values into the {weight.dtype} base weight (out of its range); the base weight was not changed.");
        weight.copy_(result);
    }

    // the type updates are formed and added in: at least float32
    private ScalarType WideType => lora_B.weight!.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;

    private static long NonFinite(Tensor t)
    {
        using var finite = t.isfinite();
        using var count = finite.logical_not().sum();
        return count.item<long>();
    }
}
