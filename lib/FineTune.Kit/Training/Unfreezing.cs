using FineTune.Kit.Models;

namespace FineTune.Kit.Training;

/// <summary>Choosing which weights train, for full and partial fine-tuning (LoRA chooses its own).</summary>
public static class Unfreezing
{
    /// <summary>Every weight trains: plain full fine-tuning.</summary>
    public static CausalLM UnfreezeAll(this CausalLM model)
    {
        foreach (var p in model.Module.parameters()) p.requires_grad = true;
        return model;
    }

    /// <summary>No weight trains.</summary>
    public static CausalLM FreezeAll(this CausalLM model)
    {
        foreach (var p in model.Module.parameters()) p.requires_grad = false;
        return model;
    }

    /// <summary>
    /// Freezes everything, then unfreezes the last <paramref name="blocks"/> transformer blocks and, optionally, the
    /// final norm: partial fine-tuning that adapts the upper layers only.
    /// </summary>
    public static CausalLM UnfreezeLastBlocks(this CausalLM model, int blocks, bool includeFinalNorm = true)
    {
        if (blocks < 0 || blocks > model.Config.NumLayers)
            throw new ArgumentOutOfRangeException(nameof(blocks), $"The model has {model.Config.NumLayers} blocks; asked to unfreeze {blocks}.");
        model.FreezeAll();
        foreach (var block in model.Module.Blocks.Skip(model.Config.NumLayers - blocks))
            foreach (var p in block.parameters()) p.requires_grad = true;
        if (includeFinalNorm)
            foreach (var (name, p) in model.Module.named_parameters())
                if (name is "model.norm.weight" || name.StartsWith("transformer.ln_f.")) p.requires_grad = true;
        return model;
    }
}
