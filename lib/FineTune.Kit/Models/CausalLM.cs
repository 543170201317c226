using FineTune.Kit.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Kit.Models;

/// <summary>How to load a model folder.</summary>
public sealed record LoadOptions
{
    /// <summary>Keep the stored dtype (e.g. BF16) instead of converting to float32.</summary>
    public bool KeepDtype { get; init; }
    /// <summary>
    /// Convert the weights to this dtype (e.g. <c>ScalarType.BFloat16</c>: a frozen base at half the memory under a
    /// float32 LoRA adapter); null keeps float32, or the stored dtype with <see cref="KeepDtype"/>.
    /// </summary>
    public ScalarType? DType { get; init; }
    /// <summary>Where to put the weights: "auto" (CUDA when available, else CPU), "cpu" or "cuda".</summary>
    public string Device { get; init; } = "auto";
}

/// <summary>
/// A causal language model loaded from (or saved to) a Hugging Face folder: config.json plus model.safetensors or
/// sharded safetensors. Owns the native memory of its weights: dispose it.
/// </summary>
public sealed partial class CausalLM : IDisposable
{
    private CausalLM(TransformerLM module, string? source)
    {
        Module = module;
        SourceDirectory = source;
    }

    /// <summary>The transformer (modules named as in Hugging Face checkpoints).</summary>
    public TransformerLM Module { get; }

    /// <summary>The architecture.</summary>
    public ModelConfig Config => Module.Config;

    /// <summary>The folder the model was loaded from, if any.</summary>
    public string? SourceDirectory { get; }

    /// <summary>The tokenizer found in the model folder, if any.</summary>
    public TextTokenizer? Tokenizer { get; set; }

    /// <summary>
    /// Activation checkpointing per block during training (transformers' <c>gradient_checkpointing_enable()</c>): less
    /// memory for activations, about a third more compute, the same loss and gradients.
    /// </summary>
    public bool GradientCheckpointing { get => Module.GradientCheckpointing; set => Module.GradientCheckpointing = value; }

    /// <summary>The tokenizer, or a clear error when the folder had none.</summary>
    public TextTokenizer RequireTokenizer() => Tokenizer ?? throw new TokenizerFormatException(
        $"{SourceDirectory ?? "this model"}: no tokenizer (tokenizer.json, vocab.json + merges.txt, or tokenizer.model) was found with the model.");

    /// <summary>Files that travel with the weights when a model is saved again.</summary>
    internal static readonly string[] CompanionFiles =
        ["tokenizer.json", "vocab.json", "merges.txt", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "README.md"];

    /// <summary>Keys in the checkpoint that the architecture does not use (reported, not fatal).</summary>
    public IReadOnlyList<string> UnexpectedKeys { get; private set; } = [];

    /// <summary>The device holding the weights.</summary>
    public Device Device => Module.parameters().First().device;

    /// <summary>The dtype of the weights.</summary>
    public ScalarType DType => Module.parameters().First().dtype;

    /// <summary>Number of parameters (tied weights counted once).</summary>
    public long ParameterCount => Module.parameters().Sum(p => p.numel());

    /// <summary>Number of parameters that require gradients.</summary>
    public long TrainableParameterCount => Module.parameters().Where(p => p.requires_grad).Sum(p => p.numel());

    /// <summary>Resolves "auto", "cpu" or "cuda" (the FTK_DEVICE environment variable overrides "auto").</summary>
    public static Device ResolveDevice(string preference = "auto")
    {
        if (preference == "auto") preference = Environment.GetEnvironmentVariable("FTK_DEVICE") ?? "auto";
        return preference switch
        {
            "auto" => cuda.is_available() ? CUDA : CPU,
            "cpu" => CPU,
            "cuda" when cuda.is_available() => CUDA,
            "cuda" => throw new KitException("CUDA was requested but is not available: build with -p:TorchBackend=cuda on a machine with an NVIDIA driver, or use --device cpu."),
            _ => throw new ArgumentException($"Unknown device '{preference}' (expected auto, cpu or cuda)."),
        };
    }

    /// <summary>
    /// Creates a randomly initialised model (normal(0, initializer_range), norms one, biases zero), seeded. The weights
    /// are drawn in float32 and then converted to <paramref name="dtype"/> when one is given.
    /// </summary>
    public static CausalLM Create(ModelConfig config, int seed = Seeds.Default, string device = "auto", ScalarType? dtype = null)
    {
        var weightType = dtype is { } d ? CheckedWeightType(d) : ScalarType.Float32;
        var module = TransformerLM.Create(config);
        var generator = new Generator((ulong)seed);
        using (no_grad())
        {
            foreach (var (name, p) in module.named_parameters())
            {
                if (name.EndsWith("bias")) p.zero_();
                // Gemma's norms scale by (1 + weight): zero is the identity gain
                else if (name.Contains("norm") || name.Contains("ln_")) p.fill_(config.Family == ModelFamily.Gemma ? 0.0 : 1.0);
                else
                {
                    // GPT-2 scales the residual projections' init by 1/sqrt(2·layers), keeping the residual stream's variance flat.
                    double std = config.InitializerRange;
                    if (name.EndsWith("c_proj.weight") || name.EndsWith("o_proj.weight") || name.EndsWith("down_proj.weight"))
                        std /= Math.Sqrt(2.0 * config.NumLayers);
                    p.normal_(0, std, generator);
                }
            }
        }
        if (weightType != ScalarType.Float32) module.to(weightType);
        module.to(ResolveDevice(device));
        module.eval();
        return new CausalLM(module, null);
    }

    /// <summary>
    /// Loads a Hugging Face model folder. Every parameter must be present with the right shape; the error names the
    /// tensor, the file and both shapes otherwise.
    /// </summary>
    public static CausalLM Load(string directory, LoadOptions? options = null)
    {
        options ??= new LoadOptions();
        if (!Directory.Exists(directory)) throw new ModelFormatException($"{directory}: model folder not found.");
        var config = ModelConfig.Load(directory);
        var folder = SafeTensorFolder.Open(directory);
        var module = TransformerLM.Create(config);

        var byCanonical = new Dictionary<string, string>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        var expected = module.named_parameters().Select(np => np.name).ToHashSet();
        foreach (var key in folder.Names)
        {
            var canonical = module.CanonicalKey(key);
            if (canonical is null) continue;
            if (expected.Contains(canonical)) byCanonical[canonical] = key;
            else unexpected.Add(key);
        }
        if (options.DType is { } dtype) module.to(CheckedWeightType(dtype));
        else if (options.KeepDtype)
        {
            var stored = folder.Entry(byCanonical.Values.First()).DType;
            module.to(SafeTensorFile.ScalarTypeOf(stored));
        }
        using (no_grad())
        {
            foreach (var (name, p) in module.named_parameters())
            {
                if (!byCanonical.TryGetValue(name, out var key))
                    throw new ModelFormatException($"{directory}: tensor '{module.CheckpointKey(name)}' is missing from the checkpoint (expected shape [{string.Join(", ", p.shape)}] for {config.ModelType}).");
                var entry = folder.Entry(key);
                if (!entry.Shape.SequenceEqual(p.shape))
                    throw new ModelFormatException($"{folder.FileOf(key)}: tensor '{key}' has shape [{string.Join(", ", entry.Shape)}] but {config.ModelType} with this config.json expects [{string.Join(", ", p.shape)}].");
                using var t = folder.Read(key);
                p.copy_(t);   // converts to the parameter's dtype (float32 unless KeepDtype)
            }
        }
        module.to(ResolveDevice(options.Device));
        module.eval();
        bool hasTokenizer = new[] { "tokenizer.json", "vocab.json", "tokenizer.model" }.Any(f => File.Exists(Path.Combine(directory, f)));
        return new CausalLM(module, directory)
        {
            UnexpectedKeys = unexpected,
            Tokenizer = hasTokenizer ? TextTokenizer.Load(directory) : null,
        };
    }

    /// <summary>
    /// Saves config.json and model.safetensors (sharded past <paramref name="maxShardBytes"/>) into a folder, atomically:
    /// the folder appears complete or not at all. <paramref name="dtype"/> converts the stored weights (e.g. BF16).
    /// </summary>
    public void Save(string directory, ScalarType? dtype = null, long maxShardBytes = 2L << 30, Action<string>? extraFiles = null)
    {
        var unmerged = Module.modules().OfType<IAdapterLayer>().Count(l => !l.Merged);
        if (unmerged > 0)
            throw new KitException($"The model has {unmerged} unmerged LoRA layers, and Save writes base weights only: save the adapter with adapter.Save(dir), or call adapter.MergeAndUnload() before saving the model.");
        var target = dtype ?? DType;
        var tensors = new List<KeyValuePair<string, Tensor>>();
        try
        {
            foreach (var (name, p) in StateForSaving())
                tensors.Add(new(name, p.detach().to_type(target).cpu()));
            // the tokenizer and generation settings travel with the weights (read first: the target may be the source)
            var companions = SourceDirectory is null ? [] : CompanionFiles
                .Where(f => File.Exists(Path.Combine(SourceDirectory, f)))
                .Select(f => (Name: f, Bytes: File.ReadAllBytes(Path.Combine(SourceDirectory, f)))).ToList();
            Io.AtomicFile.WriteDirectory(directory, tmp =>
            {
                Config.Save(tmp, TorchDtypeName(target));
                SafeTensorFolder.Save(tmp, tensors, maxShardBytes);
                foreach (var (name, bytes) in companions) File.WriteAllBytes(Path.Combine(tmp, name), bytes);
                extraFiles?.Invoke(tmp);
            });
        }
        finally
        {
            foreach (var kv in tensors) kv.Value.Dispose();
        }
    }

    /// <summary>The parameters as checkpoint keys, with any adapters merged out of the names (base weights only).</summary>
    internal IEnumerable<(string Name, Tensor Tensor)> StateForSaving() =>
        Module.named_parameters().Select(np => (Base: BaseName(np.name), Tensor: (Tensor)np.parameter))
            .Where(x => x.Base is not null).Select(x => (Module.CheckpointKey(x.Base!), x.Tensor));

    /// <summary>Strips an adapter wrapper's segment from a parameter name ("q_proj.base_layer.weight" → "q_proj.weight"); null for adapter-only tensors.</summary>
    internal static string? BaseName(string name)
    {
        if (name.Contains(".lora_A.") || name.Contains(".lora_B.")) return null;
        return name.Replace(".base_layer.", ".");
    }

    private static ScalarType CheckedWeightType(ScalarType t) => t is ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16 or ScalarType.Float64
        ? t : throw new ArgumentException($"Model weights can be float32, bfloat16, float16 or float64, not {t}.", nameof(t));

    /// <summary>The Hugging Face name of a dtype.</summary>
    public static string TorchDtypeName(ScalarType t) => t switch
    {
        ScalarType.Float32 => "float32", ScalarType.BFloat16 => "bfloat16", ScalarType.Float16 => "float16",
        ScalarType.Float64 => "float64", _ => t.ToString().ToLowerInvariant(),
    };

    /// <summary>Runs the model on a batch (see <see cref="TransformerLM.Forward"/>).</summary>
    public ForwardOutput Forward(Tensor inputIds, Tensor? attentionMask = null, bool outputHiddenStates = false,
        bool outputAttentions = false) =>
        Module.Forward(inputIds, attentionMask, null, outputHiddenStates, outputAttentions);

    /// <summary>Float32 logits [time, vocab] for one sequence of ids, computed without gradients.</summary>
    public float[][] Logits(IReadOnlyList<long> ids)
    {
        CheckTokenIds(ids);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var input = tensor(ids.ToArray(), device: Device).unsqueeze(0);
        using var output = Module.Forward(input);
        var logits = output.Logits[0].to_type(ScalarType.Float32).cpu();
        var flat = logits.data<float>().ToArray();
        int v = (int)logits.shape[1];
        return Enumerable.Range(0, (int)logits.shape[0]).Select(i => flat.AsSpan(i * v, v).ToArray()).ToArray();
    }

    /// <summary>Puts the model in training mode (dropout on) or evaluation mode.</summary>
    public CausalLM Train(bool on = true)
    {
        Module.train(on);
        return this;
    }

    /// <inheritdoc />
    public void Dispose() => Module.Dispose();
}
