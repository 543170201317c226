using FineTune.Kit.Io;
using FineTune.Kit.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Kit.Lora;

/// <summary>
/// The LoRA layers injected into a model, plus any modules trained in full alongside them. Saves and loads the
/// Hugging Face PEFT layout: adapter_config.json and adapter_model.safetensors with keys such as
/// `base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`.
/// </summary>
public sealed class LoraAdapter
{
    private const string Prefix = "base_model.model.";
    private readonly Dictionary<string, LoraLinear> _layers;
    private readonly Dictionary<string, nn.Module> _saved;

    private LoraAdapter(CausalLM model, LoraConfig config, Dictionary<string, LoraLinear> layers, Dictionary<string, nn.Module> saved)
    {
        Model = model;
        Config = config;
        _layers = layers;
        _saved = saved;
    }

    /// <summary>The model the adapter is injected into.</summary>
    public CausalLM Model { get; }
    /// <summary>The adapter's hyperparameters.</summary>
    public LoraConfig Config { get; }
    /// <summary>The wrapped layers by module path (e.g. model.layers.0.self_attn.q_proj).</summary>
    public IReadOnlyDictionary<string, LoraLinear> Layers => _layers;
    /// <summary>Modules trained in full and saved with the adapter, by path.</summary>
    public IReadOnlyCollection<string> SavedModules => _saved.Keys;

    /// <summary>Number of parameters the adapter trains.</summary>
    public long TrainableParameters =>
        _layers.Values.Sum(l => l.lora_A.weight!.numel() + l.lora_B.weight!.numel()) +
        _saved.Values.Sum(m => m.parameters().Sum(p => p.numel()));

    /// <summary>One line for logs: trainable of total parameters.</summary>
    public string Summary()
    {
        long total = Model.ParameterCount;
        return $"trainable params: {TrainableParameters:N0} of {total:N0} ({100.0 * TrainableParameters / total:F3}%) in {_layers.Count} LoRA layers" +
               (_saved.Count > 0 ? $" and {_saved.Count} fully trained modules" : "");
    }

    /// <summary>
    /// Wraps the matching projections of <paramref name="model"/> and freezes everything else.
    /// </summary>
    /// <exception cref="ArgumentException">No module matches the targets (the message lists the names there are).</exception>
    public static LoraAdapter Inject(CausalLM model, LoraConfig config)
    {
        var plan = Plan(model, config);
        var generator = new Generator((ulong)config.Seed);
        var layers = new Dictionary<string, LoraLinear>();
        foreach (var (path, parent, child, layer) in plan)
        {
            var wrapped = new LoraLinear(layer, config.R, config.Scaling, config.Dropout, generator, path);
            wrapped.train(model.Module.training);        // a new module starts in training mode; follow the model's (dropout off at inference)
            parent.ReplaceChild(child, wrapped);
            layers[path] = wrapped;
        }
        var saved = FindSavedModules(model, config);
        foreach (var p in model.Module.parameters()) p.requires_grad = false;
        foreach (var l in layers.Values) { l.lora_A.weight!.requires_grad = true; l.lora_B.weight!.requires_grad = true; }
        foreach (var m in saved.Values) foreach (var p in m.parameters()) p.requires_grad = true;
        return new LoraAdapter(model, config, layers, saved);
    }

    private static List<(string Path, KitModule Parent, string Child, nn.Module<Tensor, Tensor> Layer)> Plan(CausalLM model, LoraConfig config)
    {
        bool allLinear = config.TargetModules.Count == 1 && config.TargetModules[0] == "all-linear";
        var plan = new List<(string, KitModule, string, nn.Module<Tensor, Tensor>)>();
        var seen = new SortedSet<string>();
        foreach (var (path, module) in model.Module.named_modules())
        {
            if (module is not KitModule parent) continue;
            foreach (var (child, layer) in parent.ReplaceableChildren())
            {
                if (layer is LoraLinear) throw new InvalidOperationException($"{Join(path, child)} already has a LoRA adapter.");
                if (layer is not (Linear or Conv1D or LowPrecisionLinear)) continue;
                seen.Add(child);
                if (allLinear ? child != "lm_head" : config.TargetModules.Contains(child))
                    plan.Add((Join(path, child), parent, child, layer));
            }
        }
        if (plan.Count == 0)
            throw new ArgumentException($"No module of this {model.Config.ModelType} model matches target_modules [{string.Join(", ", config.TargetModules)}]; its projections are: {string.Join(", ", seen)}.");
        return plan;
    }

    private static Dictionary<string, nn.Module> FindSavedModules(CausalLM model, LoraConfig config)
    {
        var saved = new Dictionary<string, nn.Module>();
        foreach (var name in config.ModulesToSave)
        {
            var matches = model.Module.named_modules().Where(m => m.name == name || m.name.EndsWith("." + name)).ToList();
            if (matches.Count == 0)
                throw new ArgumentException($"modules_to_save names '{name}', which this {model.Config.ModelType} model does not have" +
                                            (name == "lm_head" && model.Config.TieWordEmbeddings ? " (its head is tied to the embeddings; name the embedding module instead)." : "."));
            foreach (var (path, module) in matches) saved[path] = module;
        }
        return saved;
    }

    private static string Join(string path, string child) => path.Length == 0 ? child : path + "." + child;

    /// <summary>The adapter's tensors under PEFT key names.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> StateDict()
    {
        foreach (var (path, l) in _layers)
        {
            yield return new(Prefix + path + ".lora_A.weight", l.lora_A.weight!);
            yield return new(Prefix + path + ".lora_B.weight", l.lora_B.weight!);
        }
        foreach (var (path, m) in _saved)
            foreach (var (name, p) in m.named_parameters())
                yield return new(Prefix + path + "." + CausalLM.BaseName(name), p);
    }

    /// <summary>Writes adapter_config.json and adapter_model.safetensors into a folder, atomically.</summary>
    public void Save(string directory)
    {
        var config = Config with { BaseModelNameOrPath = Config.BaseModelNameOrPath ?? Model.SourceDirectory };
        bool fanInFanOut = _layers.Values.Any(l => l.FanInFanOut);
        var tensors = StateDict().ToList();
        AtomicFile.WriteDirectory(directory, tmp =>
        {
            AtomicFile.WriteAllText(Path.Combine(tmp, "adapter_config.json"), config.ToJsonString(fanInFanOut));
            SafeTensorFile.Save(Path.Combine(tmp, "adapter_model.safetensors"), tensors,
                new Dictionary<string, string> { ["format"] = "pt" });
        });
    }

    /// <summary>
    /// Loads a PEFT LoRA adapter into <paramref name="model"/>. Every tensor is checked against the model before
    /// anything changes: a wrong base, rank or truncated file leaves the model as it was.
    /// </summary>
    public static LoraAdapter Load(CausalLM model, string directory)
    {
        var config = LoraConfig.Load(directory);
        var file = Path.Combine(directory, "adapter_model.safetensors");
        SafeTensorFile st;
        try { st = SafeTensorFile.Open(file); }
        catch (ModelFormatException e) { throw new AdapterFormatException(e.Message, e); }

        // Validate against the plan before touching the model.
        var plan = Plan(model, config).ToDictionary(p => p.Path);
        var keys = st.Entries.Keys.ToDictionary(k => k.Replace(".default.", "."), k => k);
        foreach (var key in keys.Keys)
        {
            if (!key.StartsWith(Prefix)) throw new AdapterFormatException($"{file}: tensor '{key}' does not start with '{Prefix}' (not a PEFT adapter for a causal LM).");
            var inner = key[Prefix.Length..];
            if (inner.EndsWith(".lora_A.weight") || inner.EndsWith(".lora_B.weight"))
            {
                var path = inner[..^".lora_A.weight".Length];
                if (!plan.ContainsKey(path))
                    throw new AdapterFormatException($"{file}: tensor '{key}' adapts module '{path}', which this {model.Config.ModelType} model does not have (or target_modules does not name): the adapter was made for another base model.");
            }
        }
        foreach (var (path, (_, _, _, layer)) in plan)
        {
            var (inF, outF) = layer switch
            {
                Linear l => (l.weight!.shape[1], l.weight!.shape[0]),
                LowPrecisionLinear h => (h.InFeatures, h.OutFeatures),
                _ => (((Conv1D)layer).InFeatures, ((Conv1D)layer).OutFeatures),
            };
            CheckShape(file, keys, Prefix + path + ".lora_A.weight", [config.R, inF], st, $"r={config.R} and this model");
            CheckShape(file, keys, Prefix + path + ".lora_B.weight", [outF, config.R], st, $"r={config.R} and this model");
        }
        var saved = FindSavedModules(model, config);
        foreach (var (path, m) in saved)
            foreach (var (name, p) in m.named_parameters())
                CheckShape(file, keys, Prefix + path + "." + CausalLM.BaseName(name), p.shape, st, "this model");

        var adapter = Inject(model, config);
        using (no_grad())
        {
            foreach (var (key, target) in adapter.StateDict())
            {
                using var t = st.Read(keys[key]);
                target.copy_(t);
            }
        }
        return adapter;
    }

    private static void CheckShape(string file, Dictionary<string, string> keys, string key, long[] expected, SafeTensorFile st, string why)
    {
        if (!keys.TryGetValue(key, out var stored))
            throw new AdapterFormatException($"{file}: tensor '{key}' is missing (expected shape [{string.Join(", ", expected)}]).");
        var shape = st.Entries[stored].Shape;
        if (!shape.SequenceEqual(expected))
            throw new AdapterFormatException($"{file}: tensor '{key}' has shape [{string.Join(", ", shape)}] but {why} (adapter_config.json) expect [{string.Join(", ", expected)}].");
    }

    /// <summary>Adds every update into its base weight.</summary>
    public void Merge() { foreach (var l in _layers.Values) l.Merge(); }

    /// <summary>Takes every update out of its base weight again.</summary>
    public void Unmerge() { foreach (var l in _layers.Values) l.Unmerge(); }

    /// <summary>Turns the adapter off or on without removing it.</summary>
    public void SetEnabled(bool enabled) { foreach (var l in _layers.Values) l.Enabled = enabled; }

    /// <summary>Merges the updates and removes the wrappers: the model is a plain model again, with the base's key names.</summary>
    public void MergeAndUnload()
    {
        Merge();
        foreach (var (path, module) in Model.Module.named_modules().ToList())
        {
            if (module is not KitModule parent) continue;
            foreach (var (child, layer) in parent.ReplaceableChildren().ToList())
                if (layer is LoraLinear l) parent.ReplaceChild(child, l.base_layer);
        }
        _layers.Clear();
    }
}

/// <summary>Fluent entry points on the model.</summary>
public static class LoraExtensions
{
    /// <summary>Injects a fresh LoRA adapter: <c>model.AddLora(r: 8, alpha: 16, targets: ["q_proj", "v_proj"])</c>.</summary>
    public static LoraAdapter AddLora(this CausalLM model, int r = 8, double alpha = 16, IReadOnlyList<string>? targets = null,
        double dropout = 0.05, bool rsLora = false, IReadOnlyList<string>? modulesToSave = null, int seed = Seeds.Default) =>
        LoraAdapter.Inject(model, new LoraConfig
        {
            R = r, Alpha = alpha, TargetModules = targets ?? ["q_proj", "v_proj"], Dropout = dropout, UseRsLora = rsLora,
            ModulesToSave = modulesToSave ?? [], Seed = seed,
        });

    /// <summary>Loads a PEFT adapter folder into the model.</summary>
    public static LoraAdapter LoadAdapter(this CausalLM model, string directory) => LoraAdapter.Load(model, directory);
}
