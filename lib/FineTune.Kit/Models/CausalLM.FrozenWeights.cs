using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Kit.Models;

public sealed partial class CausalLM
{
    /// <summary>
    /// Stores every frozen linear weight and the frozen token embeddings in <paramref name="storage"/> (bfloat16 by
    /// default), computing with them in float32 (<see cref="LowPrecisionLinear"/>): for LoRA on a large base, half the
    /// memory of the base weights, while the adapter, its optimizer state, activations and gradients stay float32.
    /// The norms are left as they are, and so are layers that train (requires_grad) once something is frozen; on a model
    /// where nothing is frozen yet (before an adapter is added) every linear layer and embedding counts as the frozen
    /// base, and is frozen. Returns the bytes freed.
    /// </summary>
    /// <exception cref="ArgumentException">The storage type is not a half-precision type, or the family's layers are GPT-2 Conv1D.</exception>
    public long StoreFrozenWeightsIn(ScalarType storage = ScalarType.BFloat16)
    {
        LowPrecisionLinear.CheckStorage(storage);      // before anything is converted
        if (Config.Family == ModelFamily.Gpt2)
            throw new ArgumentException("GPT-2's projections are Conv1D layers, which are not stored in half precision; the Llama and Gemma families are.", nameof(storage));
        long before = WeightBytes();
        bool wholeBase = Module.parameters().All(p => p.requires_grad);
        foreach (var module in Module.modules().Prepend(Module).Distinct().ToList())
        {
            if (module is KitModule parent)
                foreach (var (name, layer) in parent.ReplaceableChildren().ToList())
                    if (Narrowed(layer, storage, wholeBase) is { } narrow) { parent.ReplaceChild(name, narrow); layer.Dispose(); }
            if (module is IAdapterLayer adapter && Narrowed(adapter.BaseLayer, storage, wholeBase) is { } narrowBase)
            {
                var old = adapter.BaseLayer;
                adapter.ReplaceBaseLayer(narrowBase);
                old.Dispose();
            }
            if (module is Embedding { weight: { } table } embedding && (wholeBase || !table.requires_grad) && table.dtype == ScalarType.Float32)
            {
                embedding.to(storage);
                embedding.weight!.requires_grad = false;
            }
        }
        Module.ComputesInFloat32 = true;
        return before - WeightBytes();
    }

    private static LowPrecisionLinear? Narrowed(nn.Module<Tensor, Tensor> layer, ScalarType storage, bool wholeBase) =>
        layer is Linear { weight: { } w } linear && (wholeBase || !w.requires_grad) && w.dtype == ScalarType.Float32 ? new LowPrecisionLinear(linear, storage) : null;

    private long WeightBytes() => Module.parameters().Sum(p => p.numel() * p.element_size());
}
