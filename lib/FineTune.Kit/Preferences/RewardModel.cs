using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Io;
using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Kit.Preferences;

/// <summary>How well a reward model orders held-out pairs.</summary>
/// <param name="Accuracy">Share of pairs whose chosen response scores higher.</param>
/// <param name="MeanMargin">Mean of score(chosen) − score(rejected).</param>
/// <param name="Margins">Each pair's margin, in data order (for a histogram).</param>
public sealed record RewardEvaluation(double Accuracy, double MeanMargin, IReadOnlyList<double> Margins);

/// <summary>
/// A reward model: the causal LM with a scalar head. The final hidden state of the last non-padding token goes
/// through a linear layer without bias to one score, laid out as Hugging Face's <c>*ForSequenceClassification</c>
/// with <c>num_labels: 1</c> (the head is the module <c>score</c>, tensor <c>score.weight</c>). Train it with LoRA plus
/// the head as a module to save: <c>model.AddLora(modulesToSave: ["score"])</c> after <see cref="Attach"/>.
/// </summary>
public sealed class RewardModel
{
    /// <summary>The module name of the head (as Hugging Face names it).</summary>
    public const string HeadName = "score";

    private RewardModel(CausalLM model, Linear head)
    {
        Model = model;
        Head = head;
    }

    /// <summary>The language model underneath.</summary>
    public CausalLM Model { get; }

    /// <summary>The scalar head [1, hidden].</summary>
    public Linear Head { get; }

    /// <summary>
    /// Adds a score head to <paramref name="model"/> (normal(0, initializer_range), seeded), or wraps the head it
    /// already has. Attach before injecting or loading an adapter whose modules_to_save names "score".
    /// </summary>
    public static RewardModel Attach(CausalLM model, int seed = Seeds.Default)
    {
        if (model.Module.named_children().FirstOrDefault(c => c.name == HeadName).module is Linear existing)
            return new RewardModel(model, existing);
        var weight = model.Module.EmbeddingMatrix;
        var head = nn.Linear(model.Config.HiddenSize, 1, hasBias: false, device: weight.device, dtype: weight.dtype);
        using (no_grad()) head.weight!.normal_(0, model.Config.InitializerRange, new Generator((ulong)seed));
        head.weight!.requires_grad = false;      // frozen like the rest until an adapter names it in modules_to_save
        model.Module.register_module(HeadName, head);
        return new RewardModel(model, head);
    }

    /// <summary>Whether the model already carries a score head.</summary>
    public static bool HasHead(CausalLM model) => model.Module.named_children().Any(c => c.name == HeadName);

    /// <summary>Scores of prompt + response sequences [sequences], with gradients unless the caller turned them off.</summary>
    public Tensor Scores(IReadOnlyList<(long[] Prompt, long[] Response)> sequences)
    {
        if (sequences.Count == 0) throw new ArgumentException("No sequences to score.");
        var examples = sequences.Select(s => TokenizedExample.PromptCompletion(s.Prompt, s.Response)).ToList();
        if (examples.Any(e => e.Ids.Length == 0)) throw new ArgumentException("A sequence has no tokens.");
        using var batch = TrainingBatch.Collate(examples, Model.Config.PadTokenId ?? 0, Model.Device);
        // right padding: the last real token sits at (real tokens − 1)
        var last = batch.Mask.sum(1) - 1;
        var onlyLast = zeros_like(batch.Mask, dtype: ScalarType.Bool).scatter(1, last.unsqueeze(1), ones(last.shape[0], 1, dtype: ScalarType.Bool, device: last.device));
        using var output = Model.Module.Forward(batch.Ids, batch.Mask, outputHiddenStates: true, logitPositions: onlyLast);
        var hidden = output.HiddenStates![^1];
        var index = last.view(-1, 1, 1).expand(-1, 1, hidden.shape[2]);
        var final = hidden.gather(1, index).squeeze(1);
        return Head.call(final).squeeze(-1).to_type(ScalarType.Float32);
    }

    /// <summary>Scores without gradients, in evaluation mode.</summary>
    public double[] Score(IReadOnlyList<(long[] Prompt, long[] Response)> sequences, int batchSize = 16)
    {
        bool wasTraining = Model.Module.training;
        Model.Module.eval();
        var result = new List<double>();
        using (no_grad())
            foreach (var chunk in sequences.Chunk(batchSize))
            {
                using var scope = NewDisposeScope();
                result.AddRange(Scores(chunk).cpu().data<float>().ToArray().Select(v => (double)v));
            }
        Model.Module.train(wasTraining);
        return result.ToArray();
    }

    /// <summary>Pairwise accuracy and margins on preference pairs.</summary>
    public RewardEvaluation Evaluate(PreferenceData data, int batchSize = 16)
    {
        var chosen = Score(data.Pairs.Select(p => (p.Prompt, p.Chosen)).ToList(), batchSize);
        var rejected = Score(data.Pairs.Select(p => (p.Prompt, p.Rejected)).ToList(), batchSize);
        var margins = chosen.Zip(rejected, (c, r) => c - r).ToArray();
        return new RewardEvaluation(margins.Count(m => m > 0) / (double)margins.Length, margins.Average(), margins);
    }

    /// <summary>Starts configuring training of the head and the adapter on preference pairs (Bradley–Terry loss).</summary>
    public RewardTrainer Trainer() => new(this);

    /// <summary>
    /// Writes the model as a Hugging Face <c>*ForSequenceClassification</c> folder with <c>num_labels: 1</c>: the base
    /// weights without the LM head, plus <c>score.weight</c>, and a config naming that architecture. Merge the adapter
    /// first (<c>adapter.MergeAndUnload()</c>); the write is atomic.
    /// </summary>
    public void SaveForSequenceClassification(string directory)
    {
        var unmerged = Model.Module.modules().OfType<LoraLinear>().Count(l => !l.Merged);
        if (unmerged > 0)
            throw new KitException($"The model has {unmerged} unmerged LoRA layers: call adapter.MergeAndUnload() first, or save the adapter (its modules_to_save hold the head).");
        var tensors = new List<KeyValuePair<string, Tensor>>();
        try
        {
            foreach (var (name, t) in Model.StateForSaving())
                if (name != "lm_head.weight" && name != HeadName + ".weight")
                    tensors.Add(new(name, t.detach().cpu().clone()));
            tensors.Add(new(HeadName + ".weight", Head.weight!.detach().cpu().clone()));
            var config = Model.Config.ToJson(CausalLM.TorchDtypeName(Model.DType));
            config["architectures"] = new JsonArray(SequenceClassificationArchitecture(Model.Config));
            config["id2label"] = new JsonObject { ["0"] = "LABEL_0" };
            config["label2id"] = new JsonObject { ["LABEL_0"] = 0 };
            // the classifier finds the last real token through pad_token_id
            if (Model.Config.PadTokenId is null && Model.Config.EosTokenIds.Count > 0) config["pad_token_id"] = Model.Config.EosTokenIds[0];
            var companions = Model.SourceDirectory is null ? [] : CausalLM.CompanionFiles
                .Where(f => File.Exists(Path.Combine(Model.SourceDirectory, f)))
                .Select(f => (Name: f, Bytes: File.ReadAllBytes(Path.Combine(Model.SourceDirectory, f)))).ToList();
            AtomicFile.WriteDirectory(directory, tmp =>
            {
                AtomicFile.WriteAllText(Path.Combine(tmp, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                SafeTensorFolder.Save(tmp, tensors);
                foreach (var (name, bytes) in companions) File.WriteAllBytes(Path.Combine(tmp, name), bytes);
            });
        }
        finally
        {
            foreach (var kv in tensors) kv.Value.Dispose();
        }
    }

    /// <summary>
    /// Loads a folder written by <see cref="SaveForSequenceClassification"/> or by Hugging Face's
    /// <c>*ForSequenceClassification</c> with one label: the base weights and the score head (the LM head, which such a
    /// checkpoint lacks, is left at zero).
    /// </summary>
    public static RewardModel LoadForSequenceClassification(string directory, LoadOptions? options = null)
    {
        options ??= new LoadOptions();
        if (!Directory.Exists(directory)) throw new ModelFormatException($"{directory}: reward model folder not found.");
        var config = ModelConfig.Load(directory);
        var folder = SafeTensorFolder.Open(directory);
        if (!folder.Contains(HeadName + ".weight"))
            throw new ModelFormatException($"{directory}: no '{HeadName}.weight' tensor, so this is not a *ForSequenceClassification reward model.");
        // the checkpoint has no LM head (a classifier does not use one); it stays zero in the model built here
        var model = CausalLM.Create(config, seed: 0, device: "cpu");
        try
        {
            var byCanonical = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var key in folder.Names)
                if (model.Module.CanonicalKey(key) is { } canonical) byCanonical[canonical] = key;
            using (no_grad())
            {
                foreach (var (name, p) in model.Module.named_parameters())
                {
                    if (!byCanonical.TryGetValue(name, out var key))
                    {
                        if (name == "lm_head.weight") { p.zero_(); continue; }
                        throw new ModelFormatException($"{directory}: tensor '{model.Module.CheckpointKey(name)}' is missing from the checkpoint (expected shape [{string.Join(", ", p.shape)}] for {config.ModelType}).");
                    }
                    if (!folder.Entry(key).Shape.SequenceEqual(p.shape))
                        throw new ModelFormatException($"{folder.FileOf(key)}: tensor '{key}' has shape [{string.Join(", ", folder.Entry(key).Shape)}] but {config.ModelType} with this config.json expects [{string.Join(", ", p.shape)}].");
                    using var t = folder.Read(key);
                    p.copy_(t);
                }
            }
            var rm = Attach(model);
            using var stored = folder.Read(HeadName + ".weight");
            if (!stored.shape.SequenceEqual(rm.Head.weight!.shape))
                throw new ModelFormatException($"{folder.FileOf(HeadName + ".weight")}: '{HeadName}.weight' has shape [{string.Join(", ", stored.shape)}] but a reward model (num_labels 1) needs [1, {config.HiddenSize}].");
            using (no_grad()) rm.Head.weight!.copy_(stored);
            model.Module.to(CausalLM.ResolveDevice(options.Device));
            if (new[] { "tokenizer.json", "vocab.json", "tokenizer.model" }.Any(f => File.Exists(Path.Combine(directory, f))))
                model.Tokenizer = Text.TextTokenizer.Load(directory);
            return rm;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static string SequenceClassificationArchitecture(ModelConfig config)
    {
        var arch = config.Raw["architectures"] is JsonArray a && a.Count > 0 ? a[0]!.GetValue<string>() : null;
        if (arch is not null && arch.EndsWith("ForCausalLM")) return arch[..^"ForCausalLM".Length] + "ForSequenceClassification";
        if (arch is not null && arch.EndsWith("LMHeadModel")) return arch[..^"LMHeadModel".Length] + "ForSequenceClassification";
        return config.Family == ModelFamily.Gpt2 ? "GPT2ForSequenceClassification" : "LlamaForSequenceClassification";
    }
}

/// <summary>
/// Trains a reward model on preference pairs with the Bradley–Terry loss −log σ(r_c − r_r − m), m an optional margin:
/// <c>reward.Trainer().LearningRate(1e-3).Steps(100).Fit(pairs)</c>. Logs loss, accuracy and margin per step.
/// </summary>
public sealed class RewardTrainer : PreferenceTrainerBase<RewardTrainer>
{
    private readonly RewardModel _reward;
    private double _margin;

    internal RewardTrainer(RewardModel reward) : base(reward.Model) => _reward = reward;

    /// <summary>A margin the chosen score must clear (0: plain Bradley–Terry).</summary>
    public RewardTrainer Margin(double margin) { _margin = margin >= 0 && double.IsFinite(margin) ? margin : throw new ArgumentOutOfRangeException(nameof(margin), margin, "The margin must be 0 or more."); return this; }

    private protected override IEnumerable<KeyValuePair<string, string>> ObjectiveSettings() =>
        [Setting("objective", "reward"), Setting("margin", _margin)];

    /// <summary>The Bradley–Terry loss per pair.</summary>
    public static Tensor Loss(Tensor chosen, Tensor rejected, double margin = 0) => -nn.functional.logsigmoid(chosen - rejected - margin);

    /// <summary>Trains the trainable parameters (the adapter and the head) and returns the per-step history.</summary>
    public PreferenceRun Fit(PreferenceData data)
    {
        if (data.Count == 0) throw new ArgumentException("No preference pairs to train on.");
        if (!_reward.Head.weight!.requires_grad)
            throw new InvalidOperationException($"The score head is frozen: inject the adapter with modulesToSave: [\"{RewardModel.HeadName}\"] so the head trains with it.");
        return RunLoop(TotalSteps(data.Count), s =>
        {
            var pairs = BatchAt(data.Pairs, s);
            int n = pairs.Count;
            var scores = _reward.Scores(pairs.Select(p => (p.Prompt, p.Chosen)).Concat(pairs.Select(p => (p.Prompt, p.Rejected))).ToList());
            var (c, r) = (scores[..n], scores[n..]);
            var loss = Loss(c, r, _margin).mean();
            using var _ = no_grad();
            return (loss, new Dictionary<string, double>
            {
                ["accuracy"] = c.gt(r).to_type(ScalarType.Float32).mean().item<float>(),
                ["margin"] = (c - r).mean().item<float>(),
                ["rewards/chosen"] = c.mean().item<float>(),
                ["rewards/rejected"] = r.mean().item<float>(),
            });
        });
    }
}
