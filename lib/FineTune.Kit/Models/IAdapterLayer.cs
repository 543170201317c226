using static TorchSharp.torch;

namespace FineTune.Kit.Models;

/// <summary>
/// A layer that wraps a base layer and adds weights of its own beside it (a LoRA layer, say). The model sees adapters
/// only through this seam, so that it can refuse to save base weights that leave an unmerged adapter's change out.
/// </summary>
public interface IAdapterLayer
{
    /// <summary>True when the adapter's change has been added into the base layer's weight.</summary>
    bool Merged { get; }

    /// <summary>The wrapped layer.</summary>
    nn.Module<Tensor, Tensor> BaseLayer { get; }

    /// <summary>Swaps the wrapped layer for one that computes the same (e.g. its weights stored in less precision).</summary>
    void ReplaceBaseLayer(nn.Module<Tensor, Tensor> replacement);
}
