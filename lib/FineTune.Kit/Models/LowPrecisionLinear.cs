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
        CheckStorage(storage);
        using (no_grad())
        {
            weight = new Parameter(source.weight!.detach().to_type(storage), requires_grad: false);
            bias = source.bias is { } b ? new Parameter(b.detach().clone(), requires_grad: false) : null;
        }
        RegisterComponents();
    }

    /// <summary>Refuses a storage type other than bfloat16 or float16.</summary>
    internal static void CheckStorage(ScalarType storage)
    {
        if (storage is not (ScalarType.BFloat16 or ScalarType.Float16))
            throw new ArgumentException($"Frozen weights can be stored in bfloat16 or float16, not {storage}.", nameof(storage));
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
        if (WideningLinear.LastContext is { } context)
        {
            AutogradOutputCache.Release(context);   // TorchSharp's unused output-sized placeholder
            WideningLinear.LastContext = null;
        }
        return bias is null ? y : y + bias.to_type(compute);
    }

    /// <summary>
    /// x·Wᵀ: as <c>F.linear</c> when both have one type, else as <see cref="Apply"/> (a tied output head over embeddings
    /// stored in half precision).
    /// </summary>
    public static Tensor Product(Tensor x, Tensor weight) => x.dtype == weight.dtype ? F.linear(x, weight) : Apply(x, weight);

    /// <summary>
    /// The product with a widened weight, whose backward widens the weight again rather than keeping the wide copy.
    /// Widened rows go into one scratch buffer per thread, a block of rows at a time (an output head of 150k rows
    /// included), so widening allocates nothing per call: transient copies of every weight, freed at once, would
    /// fragment the native heap and raise peak memory above the float32 model's.
    /// </summary>
    private sealed class WideningLinear : autograd.SingleTensorFunction<WideningLinear>
    {
        public override string Name => nameof(WideningLinear);

        /// <summary>The context of this thread's last call, for <see cref="AutogradOutputCache.Release"/> once it returns.</summary>
        [ThreadStatic] internal static autograd.AutogradContext? LastContext;

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var (x, w) = ((Tensor)vars[0], (Tensor)vars[1]);
            ctx.save_for_backward([w]);
            // the one output is what the loss depends on, so its gradient always arrives: no zeros to materialise
            ctx.set_materialize_grads(false);
            LastContext = ctx;
            using var scope = NewDisposeScope();
            using (no_grad())
            {
                long rows = w.shape[0], block = Scratch.BlockRows(w);
                if (block == rows) return F.linear(x, Scratch.Widen(w, 0, rows, x.dtype)).MoveToOuterDisposeScope();
                var y = empty([.. x.shape[..^1], rows], dtype: x.dtype, device: x.device);
                for (long r = 0; r < rows; r += block)
                {
                    long n = Math.Min(block, rows - r);
                    y.narrow(-1, r, n).copy_(F.linear(x, Scratch.Widen(w, r, n, x.dtype)));
                }
                return y.MoveToOuterDisposeScope();
            }
        }

        // the input gradient handed to autograd by the previous backward call on this thread
        [ThreadStatic] private static Tensor? _handedOver;

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
        {
            // autograd took its own reference to the last gradient when that call returned: release ours now, rather
            // than with the training step's scope, which would keep every layer's input gradient to the step's end
            _handedOver?.Dispose();
            _handedOver = null;
            using var scope = NewDisposeScope();
            var w = ctx.get_saved_variables()[0];
            // the weight is frozen: only the input's gradient, g·W, summed over the blocks of rows
            long rows = w.shape[0], cols = w.shape[1], block = Scratch.BlockRows(w);
            var g = grad_output.reshape(-1, rows);
            var gradInput = zeros(g.shape[0], cols, dtype: grad_output.dtype, device: grad_output.device);
            for (long r = 0; r < rows; r += block)
            {
                long n = Math.Min(block, rows - r);
                gradInput.addmm_(g.narrow(1, r, n), Scratch.Widen(w, r, n, grad_output.dtype));
            }
            var result = _handedOver = gradInput.view([.. grad_output.shape[..^1], cols]).DetachFromDisposeScope();
            // the handle on the incoming gradient is released here, not with the training step's scope, so the backward
            // pass does not hold every layer's output gradient to its end (autograd keeps its own reference)
            grad_output.Dispose();
            return [result, null!];
        }
    }

    /// <summary>One widening buffer per thread, of at most <see cref="Elements"/> values (16 MB in float32).</summary>
    private static class Scratch
    {
        public const long Elements = 1L << 22;

        [ThreadStatic] private static Tensor? _buffer;

        /// <summary>Rows of <paramref name="w"/> widened at a time: all of them when they fit.</summary>
        public static long BlockRows(Tensor w) => Math.Max(1, Math.Min(w.shape[0], Elements / w.shape[1]));

        /// <summary>Rows [start, start + count) of <paramref name="w"/> in <paramref name="type"/>, in the buffer (valid until the next call).</summary>
        public static Tensor Widen(Tensor w, long start, long count, ScalarType type)
        {
            long needed = count * w.shape[1];
            if (_buffer is null || _buffer.dtype != type || _buffer.device_type != w.device_type || _buffer.device_index != w.device_index || _buffer.numel() < needed)
            {
                _buffer?.Dispose();
                _buffer = empty(Math.Max(needed, Math.Min(Elements, w.numel())), dtype: type, device: w.device).DetachFromDisposeScope();
            }
            var wide = _buffer.narrow(0, 0, needed).view(count, w.shape[1]);
            wide.copy_(w.narrow(0, start, count));
            return wide;
        }
    }
}
