using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Kit.Models;

/// <summary>
/// Activation (gradient) checkpointing of one block (Chen et al., 2016): the forward pass keeps only the block's input;
/// the backward pass runs the block again with gradients on and back-propagates through that recomputation. Memory
/// for activations drops from every intermediate of every block to one input per block plus one block's intermediates,
/// for about one extra forward pass of compute. The random-number state is restored for the recomputation, so dropout
/// draws the same masks and the gradients equal those of the plain pass.
/// </summary>
internal sealed class BlockCheckpoint : autograd.SingleTensorFunction<BlockCheckpoint>
{
    /// <inheritdoc />
    public override string Name => nameof(BlockCheckpoint);

    /// <summary>Runs <paramref name="block"/> on <paramref name="x"/>, keeping only <paramref name="x"/> for the backward pass.</summary>
    public static Tensor Run(Tensor x, Func<Tensor, Tensor> block)
    {
        // the recomputation's gradients reach the adapter's weights only when this function's output is part of the
        // graph, which needs an input that requires gradients: a frozen embedding's output does not, so make it a leaf
        // that does (what transformers' enable_input_require_grads does for PEFT models)
        if (!x.requires_grad) x = x.detach().requires_grad_(true);
        return apply(x, block);
    }

    /// <inheritdoc />
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        var block = (Func<Tensor, Tensor>)vars[1];
        ctx.save_for_backward([x]);
        ctx.save_data("block", block);
        // the generator's state as bytes: the context keeps tensors only through save_for_backward
        using (var state = get_rng_state()) ctx.save_data("rng", state.data<byte>().ToArray());
        using var scope = NewDisposeScope();
        using (no_grad())
            return block(x).MoveToOuterDisposeScope();        // the block's intermediates are freed here
    }

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        using var scope = NewDisposeScope();
        var input = ctx.get_saved_variables()[0];
        var block = (Func<Tensor, Tensor>)ctx.get_data("block");
        using var rng = tensor((byte[])ctx.get_data("rng"), ScalarType.Byte);
        using var after = get_rng_state();
        set_rng_state(rng);
        var x = input.detach().requires_grad_(true);
        Tensor y;
        using (enable_grad()) y = block(x);
        set_rng_state(after);
        // back-propagates into the block's parameters (their .grad accumulate) and into x
        autograd.backward([y], [grad_output]);
        var gradInput = (x.grad ?? zeros_like(x)).MoveToOuterDisposeScope();
        grad_output.Dispose();            // autograd keeps its own reference; this handle would live to the step's end
        return [gradInput, null!];
    }
}
