using FineTune.Kit.Models;
using static TorchSharp.torch;

namespace FineTune.Kit.Lora;

/// <summary>
/// Several LoRA adapters over one base model in memory (multi-LoRA serving). Each adapter keeps its own A and B
/// matrices; <see cref="Use"/> puts one adapter's wrappers into the model (or none, for the base) by swapping child
/// modules. Nothing is ever merged, so the base weights stay exactly as loaded. The model holds one adapter at a time:
/// callers serialise model access across a switch.
/// </summary>
public sealed class AdapterSet
{
    private readonly Dictionary<string, List<(KitModule Parent, string Child, LoraLinear Layer)>> _adapters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LoraAdapter> _loaded = new(StringComparer.Ordinal);

    /// <summary>Starts a set over <paramref name="model"/>, which must not have adapter layers yet.</summary>
    public AdapterSet(CausalLM model) => Model = model;

    /// <summary>The shared base model.</summary>
    public CausalLM Model { get; }

    /// <summary>The adapter now in the model, or null for the base.</summary>
    public string? Active { get; private set; }

    /// <summary>The adapter names.</summary>
    public IReadOnlyCollection<string> Names => _adapters.Keys;

    /// <summary>The loaded adapter by name (its config; its layers are in the model only while it is active).</summary>
    public LoraAdapter this[string name] => _loaded[name];

    /// <summary>
    /// Loads a PEFT adapter folder under <paramref name="name"/>. Adapters that train whole modules (modules_to_save)
    /// are refused: loading one overwrites base weights that the other adapters share.
    /// </summary>
    public AdapterSet Add(string name, string directory)
    {
        if (_adapters.ContainsKey(name)) throw new ArgumentException($"adapter name '{name}' is given twice");
        var config = LoraConfig.Load(directory);
        if (config.ModulesToSave.Count > 0)
            throw new ArgumentException($"{directory}: the adapter also trains whole modules ({string.Join(", ", config.ModulesToSave)}), which would replace weights shared by every adapter; merge it into its own model folder instead (ftk merge)");
        Use(null);
        var adapter = LoraAdapter.Load(Model, directory);
        var wrappers = new List<(KitModule, string, LoraLinear)>();
        foreach (var (_, module) in Model.Module.named_modules().ToList())
        {
            if (module is not KitModule parent) continue;
            foreach (var (child, layer) in parent.ReplaceableChildren().ToList())
                if (layer is LoraLinear l)
                {
                    wrappers.Add((parent, child, l));
                    parent.ReplaceChild(child, l.base_layer);      // back to the base until the adapter is used
                }
        }
        foreach (var (_, _, l) in wrappers) l.eval();
        _adapters[name] = wrappers;
        _loaded[name] = adapter;
        return this;
    }

    /// <summary>Makes <paramref name="name"/> the adapter in the model (null: the base model alone).</summary>
    public void Use(string? name)
    {
        if (name == Active) return;
        if (name is not null && !_adapters.ContainsKey(name)) throw new ArgumentException($"no adapter named '{name}'");
        if (Active is not null)
            foreach (var (parent, child, layer) in _adapters[Active]) parent.ReplaceChild(child, layer.base_layer);
        if (name is not null)
            foreach (var (parent, child, layer) in _adapters[name]) parent.ReplaceChild(child, layer);
        Active = name;
    }
}
