using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Io;
using FineTune.Kit.Models;
using FineTune.Kit.Text;
using static TorchSharp.torch;

namespace FineTune.Kit.Training;

/// <summary>Settings of a from-scratch pre-training run (a small Llama-family model).</summary>
public sealed record PretrainOptions
{
    /// <summary>Tokenizer vocabulary size (trained on the corpus unless <see cref="TokenizerDirectory"/> is given).</summary>
    public int VocabSize { get; init; } = 4096;
    /// <summary>An existing tokenizer folder to use instead of training one.</summary>
    public string? TokenizerDirectory { get; init; }
    /// <summary>Transformer blocks.</summary>
    public int Layers { get; init; } = 4;
    /// <summary>Residual width.</summary>
    public int Hidden { get; init; } = 256;
    /// <summary>Query heads.</summary>
    public int Heads { get; init; } = 4;
    /// <summary>Key/value heads.</summary>
    public int KvHeads { get; init; } = 2;
    /// <summary>MLP width.</summary>
    public int Ffn { get; init; } = 688;
    /// <summary>Training sequence length.</summary>
    public int SeqLen { get; init; } = 128;
    /// <summary>Optimizer steps.</summary>
    public int Steps { get; init; } = 1000;
    /// <summary>Sequences per step.</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>Peak learning rate (cosine decay after warm-up).</summary>
    public double LearningRate { get; init; } = 2e-3;
    /// <summary>Seed of initialisation, data order and dropout.</summary>
    public int Seed { get; init; } = Seeds.Default;
    /// <summary>Fraction of documents held out for perplexity.</summary>
    public double HeldOutFraction { get; init; } = 0.05;
    /// <summary>Store weights as BF16 (half the size).</summary>
    public bool SaveBf16 { get; init; } = true;
    /// <summary>The command line that produced the model, recorded in its model card.</summary>
    public string? Command { get; init; }
}

/// <summary>What pre-training achieved.</summary>
public sealed record PretrainResult(string Directory, long Parameters, double HeldOutPerplexity, double UnigramPerplexity,
    TrainingHistory History, TimeSpan Elapsed, long TrainTokens);

/// <summary>
/// Pre-trains a small Llama-family model from scratch on a text corpus with the kit's own loop, and writes a standard
/// Hugging Face folder: config.json, model.safetensors, tokenizer files, generation_config.json and a model card.
/// </summary>
public static class Pretraining
{
    /// <summary>The document separator and special tokens of tokenizers trained here.</summary>
    public static readonly string[] SpecialTokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

    /// <summary>Runs pre-training on <paramref name="documents"/> and saves the model into <paramref name="outDir"/>.</summary>
    public static PretrainResult Run(IReadOnlyList<string> documents, string outDir, PretrainOptions options, Action<StepMetrics>? onStep = null)
    {
        var clock = Stopwatch.StartNew();
        if (documents.Count < 20) throw new ArgumentException($"The corpus has {documents.Count} documents; pre-training needs at least 20.");
        // hold out every n-th document, so the held-out set is spread over the corpus
        int every = Math.Max(2, (int)Math.Round(1 / options.HeldOutFraction));
        var train = documents.Where((_, i) => i % every != every - 1).ToList();
        var heldOut = documents.Where((_, i) => i % every == every - 1).ToList();

        var tokDir = Path.Combine(Path.GetTempPath(), "ftk-pretrain-tok-" + Guid.NewGuid().ToString("N"));
        if (options.TokenizerDirectory is null)
        {
            var bpe = new BpeTrainer().VocabSize(options.VocabSize).SpecialTokens(SpecialTokens).Train(train);
            bpe.Save(tokDir, new TokenizerConfig
            {
                BosToken = "<|endoftext|>", EosToken = "<|endoftext|>", PadToken = "<|endoftext|>",
                ChatTemplate = ChatTemplate.ChatMl.Jinja, ModelMaxLength = options.SeqLen * 4,
            });
        }
        else
        {
            Directory.CreateDirectory(tokDir);
            foreach (var f in CausalLM.CompanionFiles.Where(f => f.StartsWith("tokenizer") || f is "vocab.json" or "merges.txt" or "special_tokens_map.json"))
                if (File.Exists(Path.Combine(options.TokenizerDirectory, f))) File.Copy(Path.Combine(options.TokenizerDirectory, f), Path.Combine(tokDir, f));
        }
        var tokenizer = TextTokenizer.Load(tokDir);
        int eos = tokenizer.TokenToId("<|endoftext|>") ?? tokenizer.EosId ?? throw new TokenizerFormatException("The tokenizer has no <|endoftext|> or EOS token to separate documents.");

        var trainStream = Stream(train, tokenizer, eos);
        var heldOutStream = Stream(heldOut, tokenizer, eos);
        var windows = Windows(trainStream, options.SeqLen);
        var heldOutWindows = Windows(heldOutStream, options.SeqLen);

        var baseConfig = ModelConfig.Llama(tokenizer.VocabSize, options.Hidden, options.Layers, options.Heads, options.KvHeads,
            options.Ffn, maxPositions: Math.Max(512, options.SeqLen * 4), tied: true);
        var config = baseConfig with { BosTokenId = eos, EosTokenIds = [eos], PadTokenId = eos };
        using var model = CausalLM.Create(config, options.Seed);
        model.Tokenizer = tokenizer;
        model.UnfreezeAll();
        var run = Trainer.For(model).LearningRate(options.LearningRate).Steps(options.Steps).BatchSize(options.BatchSize)
            .MaxSequenceLength(options.SeqLen).Schedule(LrScheduleKind.Cosine, warmupSteps: Math.Max(1, options.Steps / 20))
            .WeightDecay(0.1).ClipGradNorm(1.0).Seed(options.Seed).OnStep(m => onStep?.Invoke(m)).Fit(windows);

        double heldOutLoss = Trainer.LossPerToken(model, heldOutWindows, 16, options.SeqLen);
        double unigram = UnigramCrossEntropy(trainStream, heldOutStream, tokenizer.VocabSize);
        var result = new PretrainResult(outDir, model.ParameterCount, Math.Exp(heldOutLoss), Math.Exp(unigram), run.History,
            clock.Elapsed, trainStream.Length);

        var dtype = options.SaveBf16 ? ScalarType.BFloat16 : ScalarType.Float32;
        model.Save(outDir, dtype, extraFiles: dir =>
        {
            foreach (var f in Directory.GetFiles(tokDir)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)), overwrite: true);
            var gen = new JsonObject { ["bos_token_id"] = eos, ["eos_token_id"] = eos, ["pad_token_id"] = eos, ["do_sample"] = false, ["max_new_tokens"] = 64 };
            AtomicFile.WriteAllText(Path.Combine(dir, "generation_config.json"), gen.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            AtomicFile.WriteAllText(Path.Combine(dir, "README.md"), ModelCard(result, options, config, windows.Count));
        });
        Directory.Delete(tokDir, recursive: true);
        return result;
    }

    /// <summary>Token ids of the documents, each followed by the separator.</summary>
    private static long[] Stream(IEnumerable<string> documents, TextTokenizer tokenizer, int eos)
    {
        var ids = new List<long>();
        foreach (var doc in documents)
        {
            ids.AddRange(tokenizer.Encode(doc).Select(i => (long)i));
            ids.Add(eos);
        }
        return ids.ToArray();
    }

    /// <summary>Non-overlapping windows of the stream; every token counts in the loss.</summary>
    private static List<TokenizedExample> Windows(long[] stream, int seqLen) =>
        Enumerable.Range(0, stream.Length / seqLen).Select(i => TokenizedExample.AllTokens(stream[(i * seqLen)..((i + 1) * seqLen)])).ToList();

    /// <summary>Cross-entropy (nats/token) of a unigram model with add-one smoothing fitted on the training stream.</summary>
    public static double UnigramCrossEntropy(long[] train, long[] heldOut, int vocab)
    {
        var counts = new double[vocab];
        foreach (var t in train) counts[t]++;
        double total = train.Length + vocab;
        return heldOut.Average(t => -Math.Log((counts[t] + 1) / total));
    }

    private static string ModelCard(PretrainResult r, PretrainOptions o, ModelConfig c, int windows)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("# FineTune.Kit sample base model").AppendLine();
        sb.AppendLine("A small Llama-family causal language model pre-trained from scratch by `ftk pretrain` on the kit's generated");
        sb.AppendLine("customer-support corpus. It exists so that every stage of the kit runs offline; it knows only this made-up domain.").AppendLine();
        sb.AppendLine("## Reproduce").AppendLine().AppendLine("```").AppendLine(o.Command ?? "ftk pretrain").AppendLine("```").AppendLine();
        sb.AppendLine("## Architecture").AppendLine();
        sb.AppendLine(inv, $"- {c.ModelType}: {c.NumLayers} layers, hidden {c.HiddenSize}, {c.NumHeads} query heads, {c.NumKvHeads} key/value heads, MLP {c.IntermediateSize}, tied embeddings");
        sb.AppendLine(inv, $"- vocabulary {c.VocabSize} (byte-level BPE trained on the corpus), {r.Parameters:N0} parameters, stored {(o.SaveBf16 ? "BF16" : "F32")}").AppendLine();
        sb.AppendLine("## Training").AppendLine();
        sb.AppendLine(inv, $"- {o.Steps} steps of {o.BatchSize} × {o.SeqLen} tokens ({windows} windows, {r.TrainTokens:N0} training tokens), AdamW, peak lr {o.LearningRate}, cosine schedule, seed {o.Seed}");
        sb.AppendLine(inv, $"- wall time {r.Elapsed.TotalMinutes:F1} min").AppendLine();
        sb.AppendLine("| step | train loss |").AppendLine("|---:|---:|");
        foreach (var s in r.History.Steps.Where((s, i) => s.Step == 1 || s.Step % Math.Max(1, o.Steps / 10) == 0))
            sb.AppendLine(inv, $"| {s.Step} | {s.Loss:F3} |");
        sb.AppendLine().AppendLine("## Held-out evaluation").AppendLine();
        sb.AppendLine(inv, $"- perplexity on held-out documents: **{r.HeldOutPerplexity:F2}**");
        sb.AppendLine(inv, $"- unigram baseline (add-one smoothed token frequencies): {r.UnigramPerplexity:F1}");
        sb.AppendLine().AppendLine("The corpus is generated from templates, so a low perplexity here says the model learned those regularities, not that it is a general language model.");
        return sb.ToString();
    }
}
