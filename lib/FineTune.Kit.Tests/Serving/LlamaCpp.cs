using LLama;
using LLama.Common;
using LLama.Native;

namespace FineTune.Kit.Tests.Serving;

/// <summary>
/// llama.cpp itself (through LLamaSharp), as the oracle for exported GGUF files: its tokenizer, its logits for every
/// position of a sequence, and its greedy continuation. One thread (more were slower and erratic on shared cores).
/// </summary>
internal sealed class LlamaCpp : IDisposable
{
    private static readonly object NativeSetup = new();
    private static bool configured;
    private readonly LLamaWeights weights;
    private readonly ModelParams parameters;

    private LlamaCpp(LLamaWeights weights, ModelParams parameters)
    {
        this.weights = weights;
        this.parameters = parameters;
    }

    /// <summary>
    /// Loads a GGUF file. <paramref name="exact"/> keeps the KV cache in F32 and flash attention off, so that the
    /// only differences from the kit are the weights' storage type and the order of float operations.
    /// </summary>
    public static LlamaCpp Load(string path, bool exact = true, uint contextSize = 256)
    {
        lock (NativeSetup)
        {
            if (!configured)
            {
                // llama.cpp logs every tensor it loads to stderr; keep the test output readable
                NativeLibraryConfig.All.WithLogCallback((level, message) => { });
                configured = true;
            }
        }
        var p = new ModelParams(path)
        {
            ContextSize = contextSize, GpuLayerCount = 0, Threads = 1, BatchThreads = 1, BatchSize = contextSize, UBatchSize = contextSize,
        };
        if (exact)
        {
            p.TypeK = GGMLType.GGML_TYPE_F32;
            p.TypeV = GGMLType.GGML_TYPE_F32;
            p.FlashAttention = false;
        }
        return new LlamaCpp(LLamaWeights.LoadFromFile(p), p);
    }

    /// <summary>Metadata llama.cpp read from the file.</summary>
    public IReadOnlyDictionary<string, string> Metadata => weights.Metadata;

    /// <summary>llama.cpp's token ids for a text (no BOS added, special tokens written in the text recognised).</summary>
    public int[] Tokenize(string text)
    {
        using var context = weights.CreateContext(parameters);
        return context.Tokenize(text, addBos: false, special: true).Select(t => (int)t).ToArray();
    }

    /// <summary>Logits at every position of a sequence.</summary>
    public float[][] Logits(IReadOnlyList<int> ids)
    {
        using var context = weights.CreateContext(parameters);
        var batch = new LLamaBatch();
        for (int i = 0; i < ids.Count; i++) batch.Add(ids[i], i, LLamaSeqId.Zero, true);
        var result = context.Decode(batch);
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama.cpp decode failed: {result}");
        return Enumerable.Range(0, ids.Count).Select(i => context.NativeHandle.GetLogitsIth(i).ToArray()).ToArray();
    }

    /// <summary>Greedy continuation of a prompt: <paramref name="count"/> tokens (argmax, no stop tokens).</summary>
    public int[] Greedy(IReadOnlyList<int> prompt, int count)
    {
        using var context = weights.CreateContext(parameters);
        var batch = new LLamaBatch();
        for (int i = 0; i < prompt.Count; i++) batch.Add(prompt[i], i, LLamaSeqId.Zero, i == prompt.Count - 1);
        var output = new List<int>();
        int position = prompt.Count;
        for (int step = 0; step < count; step++)
        {
            if (context.Decode(batch) != DecodeResult.Ok) throw new InvalidOperationException("llama.cpp decode failed");
            var logits = context.NativeHandle.GetLogitsIth(batch.TokenCount - 1);
            int best = 0;
            for (int v = 1; v < logits.Length; v++) if (logits[v] > logits[best]) best = v;
            output.Add(best);
            batch.Clear();
            batch.Add(best, position++, LLamaSeqId.Zero, true);
        }
        return output.ToArray();
    }

    /// <summary>
    /// Greedy continuation until an end-of-generation token (EOS, or a turn end such as &lt;|im_end|&gt; that llama.cpp
    /// recognises by itself) or <paramref name="maxTokens"/>; each token is reported as it is chosen.
    /// </summary>
    public List<int> GreedyUntilEnd(IReadOnlyList<int> prompt, int maxTokens, Action<int>? onToken = null)
    {
        using var context = weights.CreateContext(parameters);
        var batch = new LLamaBatch();
        for (int i = 0; i < prompt.Count; i++) batch.Add(prompt[i], i, LLamaSeqId.Zero, i == prompt.Count - 1);
        var output = new List<int>();
        for (int position = prompt.Count; output.Count < maxTokens; position++)
        {
            if (context.Decode(batch) != DecodeResult.Ok) throw new InvalidOperationException("llama.cpp decode failed");
            var logits = context.NativeHandle.GetLogitsIth(batch.TokenCount - 1);
            int best = 0;
            for (int v = 1; v < logits.Length; v++) if (logits[v] > logits[best]) best = v;
            if (((LLamaToken)best).IsEndOfGeneration(weights.Vocab)) break;
            output.Add(best);
            onToken?.Invoke(best);
            batch.Clear();
            batch.Add(best, position, LLamaSeqId.Zero, true);
        }
        return output;
    }

    /// <summary>llama.cpp's text for token ids.</summary>
    public string Detokenize(IReadOnlyList<int> ids)
    {
        using var context = weights.CreateContext(parameters);
        var decoder = new StreamingTokenDecoder(context);
        decoder.AddRange(ids.Select(i => (LLamaToken)i));
        return decoder.Read();
    }

    /// <summary>
    /// Asserts that llama.cpp splits every text into the ids the kit's tokenizer gives, listing every text that differs
    /// (after <paramref name="what"/>, the file or variant).
    /// </summary>
    public void AssertTokenizesLike(FineTune.Kit.Text.TextTokenizer tokenizer, IEnumerable<string> texts, string what = "")
    {
        var failures = texts.Where(t => !tokenizer.Encode(t).SequenceEqual(Tokenize(t)))
            .Select(t => $"{what}{(what.Length > 0 ? ": " : "")}'{t}' → kit [{string.Join(",", tokenizer.Encode(t))}] llama.cpp [{string.Join(",", Tokenize(t))}]")
            .ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>
    /// Asserts that llama.cpp's logits at every position of <paramref name="prompt"/> are within
    /// <paramref name="tolerance"/> of the kit's, and, when <paramref name="kitGreedy"/> is given, that its greedy
    /// continuation is the kit's token for token. Returns the largest difference.
    /// </summary>
    public double AssertRunsLike(float[][] kitLogits, int[] prompt, double tolerance, string what, IReadOnlyList<int>? kitGreedy = null)
    {
        double maxDiff = GgufExportTests.MaxDifference(kitLogits, Logits(prompt));
        Assert.True(maxDiff < tolerance, $"{what}: max |logit difference| {maxDiff:G3} ≥ {tolerance} over {prompt.Length} positions");
        if (kitGreedy is not null) Assert.Equal(kitGreedy, Greedy(prompt, kitGreedy.Count));
        return maxDiff;
    }

    public void Dispose() => weights.Dispose();
}
