namespace FineTune.Kit.Models;

/// <summary>
/// A layer that wraps a base layer and adds weights of its own beside it (a LoRA layer, say). The model sees adapters
/// only through this seam, so that it can refuse to save base weights that leave an unmerged adapter's change out.
/// </summary>
public interface IAdapterLayer
{
    /// <summary>True when the adapter's change has been added into the base layer's weight.</summary>
    bool Merged { get; }
}
