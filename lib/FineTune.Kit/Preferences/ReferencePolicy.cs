using FineTune.Kit.Lora;
using FineTune.Kit.Models;

namespace FineTune.Kit.Preferences;

/// <summary>
/// The reference policy of preference tuning and RL is the model without its LoRA updates: the same weights, with
/// every adapter layer switched off for the duration of a scope. No second copy of the model is kept.
/// </summary>
public static class ReferencePolicy
{
    /// <summary>
    /// Checks that <paramref name="model"/> can serve as its own reference: it has LoRA layers and trains nothing
    /// else (a module trained in full would change the reference too).
    /// </summary>
    public static void Require(CausalLM model, string purpose)
    {
        if (!model.Module.modules().OfType<LoraLinear>().Any())
            throw new InvalidOperationException($"{purpose} compares the policy with the model without its adapter: add a LoRA adapter first (model.AddLora(...)).");
        var fullyTrained = model.Module.named_parameters()
            .Where(p => p.parameter.requires_grad && !p.name.Contains(".lora_A.") && !p.name.Contains(".lora_B."))
            .Select(p => p.name).ToList();
        if (fullyTrained.Count > 0)
            throw new InvalidOperationException($"{purpose} uses the model without its adapter as the reference, but {fullyTrained[0]} " +
                                                $"{(fullyTrained.Count > 1 ? $"(and {fullyTrained.Count - 1} more) are" : "is")} trained in full and would move the reference too; train LoRA layers only.");
        if (model.Module.modules().OfType<LoraLinear>().Any(l => l.Merged))
            throw new InvalidOperationException($"{purpose}: the adapter is merged into the base weights, so switching it off would not give the base model; unmerge it first.");
    }

    /// <summary>Switches every LoRA layer of the model off until the returned scope is disposed.</summary>
    public static IDisposable Disabled(CausalLM model)
    {
        var layers = model.Module.modules().OfType<LoraLinear>().Where(l => l.Enabled).ToList();
        foreach (var l in layers) l.Enabled = false;
        return new Restore(layers);
    }

    private sealed class Restore(List<LoraLinear> layers) : IDisposable
    {
        public void Dispose() { foreach (var l in layers) l.Enabled = true; layers.Clear(); }
    }
}
