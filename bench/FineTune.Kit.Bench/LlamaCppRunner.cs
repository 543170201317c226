using LLama;
using LLama.Common;
using LLama.Native;

namespace FineTune.Kit.Bench;

/// <summary>
/// Greedy decoding in llama.cpp through LLamaSharp, timed as <see cref="Models.GenerationTiming"/> times the kit: the
/// prompt in one batch up to the first token's argmax (prefill), then one token per decode call. llama.cpp's default
/// context settings (F16 KV cache), so the figure is what a user of the exported file gets.
/// </summary>
internal sealed class LlamaCppRunner : IDisposable
{
    private static bool quiet;
    private readonly LLamaWeights weights;
    private readonly string path;

    private LlamaCppRunner(LLamaWeights weights, string path)
    {
        this.weights = weights;
        this.path = path;
    }

    /// <summary>Loads a GGUF file (weights memory-mapped; no GPU layers).</summary>
    public static LlamaCppRunner Load(string path)
    {
        if (!quiet)
        {
            // llama.cpp logs every tensor it loads to stderr
            NativeLibraryConfig.All.WithLogCallback((_, _) => { });
            quiet = true;
        }
        return new LlamaCppRunner(LLamaWeights.LoadFromFile(new ModelParams(path) { GpuLayerCount = 0 }), path);
    }

    /// <summary>Times greedy generation of <paramref name="count"/> tokens after <paramref name="prompt"/> on a fresh context.</summary>
    public Models.GenerationTiming Greedy(IReadOnlyList<long> prompt, int count, int threads)
    {
        uint contextSize = (uint)(prompt.Count + count + 8);
        var parameters = new ModelParams(path)
        {
            ContextSize = contextSize, GpuLayerCount = 0, Threads = threads, BatchThreads = threads,
            BatchSize = contextSize, UBatchSize = contextSize,
        };
        using var context = weights.CreateContext(parameters);
        var batch = new LLamaBatch();
        for (int i = 0; i < prompt.Count; i++) batch.Add((LLamaToken)(int)prompt[i], i, LLamaSeqId.Zero, i == prompt.Count - 1);
        var tokens = new long[count];
        var start = Models.GenerationTiming.Now();
        (long, TimeSpan) first = default;
        for (int step = 0; step < count; step++)
        {
            if (context.Decode(batch) != DecodeResult.Ok) throw new InvalidOperationException($"{path}: llama.cpp decode failed at step {step}");
            var logits = context.NativeHandle.GetLogitsIth(batch.TokenCount - 1);
            int best = 0;
            for (int v = 1; v < logits.Length; v++) if (logits[v] > logits[best]) best = v;
            tokens[step] = best;
            if (step == 0) first = Models.GenerationTiming.Now();
            batch.Clear();
            batch.Add(best, prompt.Count + step, LLamaSeqId.Zero, true);
        }
        var end = Models.GenerationTiming.Now();
        var (prefill, prefillCpu) = Models.GenerationTiming.Between(start, first);
        var (decode, decodeCpu) = Models.GenerationTiming.Between(first, end);
        return new Models.GenerationTiming(prompt.Count, tokens, prefill, decode, prefillCpu, decodeCpu);
    }

    public void Dispose() => weights.Dispose();
}
