using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FineTune.Kit.Models;

/// <summary>
/// A frozen linear layer whose weight is stored in half precision (bfloat16 or float16) and used in float32: the
/// weight is widened for each product and the wide copy is dropped at once, in the backward pass too, so the model
/// keeps half the bytes for its frozen weights while activations, gradients and the adapter stay float32. Parameter
/// names are nn.Linear's (<c>weight</c>, <c>bias</c>), so checkpoints, adapters and exports see the same keys.
/// </summary>
public sealed class LowPrecisionLinear : nn.Module<Tensor, Tensor>
{
    /// <summary>The weight [out, in], in the storage type, frozen.</summary>
    public Parameter weight;
    /// <summary>The bias [out] (kept as it was), or null.</summary>
    public Parameter? bias;

    /// <summary>Takes over <paramref name="source"/>'s weights, storing the weight in <paramref name="storage"/>.</summary>
    public LowPrecisionLinear(Linear source, ScalarType storage) : base("LowPrecisionLinear")
    {
        if (storage is not (ScalarType.BFloat16 or ScalarType.Float16))
            throw new ArgumentException($"Frozen weights can be stored in bfloat16 or float16, not {storage}.", nameof(storage));
        using (no_grad())
        {
            weight = new Parameter(source.weight!.detach().to_type(storage), requires_grad: false);
            bias = source.bias is { } b ? new Parameter(b.detach().clone(), requires_grad: false) : null;
        }
        RegisterComponents();
    }

    /// <summary>Input width.</summary>
    public long InFeatures => weight.shape[1];
    /// <summary>Output width.</summary>
    public long OutFeatures => weight.shape[0];

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => Apply(x, weight, bias);

    /// <summary>
    /// x·Wᵀ + b computed in float32 (float64 for float64 inputs) whatever type <paramref name="weight"/> is stored in;
    /// a half-precision input is widened first. Nothing wider than the stored weight is kept for the backward pass.
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor weight, Tensor? bias = null)
    {
        var compute = x.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        if (x.dtype != compute) x = x.to_type(compute);
        if (weight.dtype == compute) return F.linear(x, weight, bias);
        var y = WideningLinear.apply(x, weight);
        return bias is null ? y : y + bias.to_type(compute);
    }

    /// <summary>
    /// x·Wᵀ: as <c>F.linear</c> when both have one type, else as <see cref="Apply"/> (a tied output head over embeddings
    /// stored in half precision).
    /// </summary>
    public static Tensor Product(Tensor x, Tensor weight) => x.dtype == weight.dtype ? F.linear(x, weight) : Apply(x, weight);

    /// <summary>The product with a widened weight, whose backward widens the weight again rather than keeping the wide copy.</summary>
    private sealed class WideningLinear : autograd.SingleTensorFunction<WideningLinear>
    {
        public override string Name => nameof(WideningLinear);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var (x, w) = ((Tensor)vars[0], (Tensor)vars[1]);
            ctx.save_for_backward([w]);
            using var scope = NewDisposeScope();
            using (no_grad())
                return F.linear(x, w.to_type(x.dtype)).MoveToOuterDisposeScope();
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
        {
            var w = ctx.get_saved_variables()[0];
            using var scope = NewDisposeScope();
            // the weight is frozen: only the input's gradient, g·W
            return [grad_output.matmul(w.to_type(grad_output.dtype)).MoveToOuterDisposeScope(), null!];
        }
    }
}
