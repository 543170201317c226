using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FineTune.Kit.Models;

/// <summary>How to pick the next tokens. Temperature 0 means greedy decoding.</summary>
public sealed record GenerationOptions
{
    /// <summary>Most tokens to generate per sequence.</summary>
    public int MaxNewTokens { get; init; } = 64;
    /// <summary>Softmax temperature; 0 picks the most likely token.</summary>
    public double Temperature { get; init; }
    /// <summary>Keep only the k most likely tokens (0: all).</summary>
    public int TopK { get; init; }
    /// <summary>Keep the smallest set of tokens whose probability reaches p (1: all).</summary>
    public double TopP { get; init; } = 1.0;
    /// <summary>Penalty for tokens already in the sequence (1: none); divides positive logits and multiplies negative ones.</summary>
    public double RepetitionPenalty { get; init; } = 1.0;
    /// <summary>Tokens that end a sequence (in addition to the config's eos ids).</summary>
    public IReadOnlyList<long> StopTokens { get; init; } = [];
    /// <summary>
    /// Throws an <see cref="ArgumentException"/> naming the first setting out of range: a negative MaxNewTokens or
    /// TopK, a negative or non-finite Temperature, TopP outside (0, 1], a RepetitionPenalty that is not a positive
    /// number. Sampling with such values would fail deep in a tensor operation or quietly ignore them.
    /// </summary>
    public void Validate()
    {
        static void Require(bool ok, string name, string expected, object value)
        {
            if (!ok) throw new ArgumentException($"{name} must be {expected}, got {Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)}", name);
        }
        Require(MaxNewTokens >= 0, nameof(MaxNewTokens), "a whole number >= 0", MaxNewTokens);
        Require(double.IsFinite(Temperature) && Temperature >= 0, nameof(Temperature), "a number >= 0 (0: greedy)", Temperature);
        Require(TopK >= 0, nameof(TopK), "a whole number >= 0 (0: all tokens)", TopK);
        Require(double.IsFinite(TopP) && TopP > 0 && TopP <= 1, nameof(TopP), "a number in (0, 1]", TopP);
        Require(double.IsFinite(RepetitionPenalty) && RepetitionPenalty > 0, nameof(RepetitionPenalty), "a number > 0 (1: none)", RepetitionPenalty);
    }

    /// <summary>
    /// Keep generating past the config's eos ids (<see cref="StopTokens"/> still stop), so that exactly
    /// <see cref="MaxNewTokens"/> tokens come out: for benchmarks, as vLLM's <c>ignore_eos</c>.
    /// </summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Seed of the sampler.</summary>
    public int Seed { get; init; } = Seeds.Default;
    /// <summary>Reuse keys and values of past positions (on by default; off recomputes every step, for checks).</summary>
    public bool UseCache { get; init; } = true;
    /// <summary>
    /// Called after each step with the token chosen for each prompt (null for a prompt already finished or stopped
    /// this step); returning false ends generation there. Streaming reads tokens as they come through it.
    /// </summary>
    public Func<IReadOnlyList<long?>, bool>? OnStep { get; init; }
}

/// <summary>Why a generated sequence ended.</summary>
public enum FinishReason
{
    /// <summary>The model produced a stop token (an eos id or one of <see cref="GenerationOptions.StopTokens"/>).</summary>
    Stop,
    /// <summary><see cref="GenerationOptions.MaxNewTokens"/> tokens were generated.</summary>
    Length,
    /// <summary>The prompt and the new tokens filled the model's context (<see cref="ModelConfig.MaxPositions"/>).</summary>
    Context,
}

/// <summary>The new tokens of one prompt and why generation ended.</summary>
public sealed record GeneratedTokens(long[] Tokens, FinishReason Reason);

/// <summary>The new text of one prompt, why generation ended, and the token counts.</summary>
public sealed record GeneratedText(string Text, FinishReason Reason, int PromptTokens, int NewTokens);

public sealed partial class CausalLM
{
    /// <summary>
    /// Generates continuations for a batch of prompts (token ids). Prompts of different lengths are left-padded and
    /// masked. Returns the new tokens of each prompt, without the stop token.
    /// </summary>
    public IReadOnlyList<long[]> Generate(IReadOnlyList<IReadOnlyList<long>> prompts, GenerationOptions? options = null) =>
        GenerateWithReasons(prompts, options).Select(g => g.Tokens).ToList();

    /// <summary>
    /// As <see cref="Generate(IReadOnlyList{IReadOnlyList{long}}, GenerationOptions?)"/>, with the reason each sequence
    /// ended. Options out of range and a prompt longer than the model's context are refused with an
    /// <see cref="ArgumentException"/> (such a prompt would otherwise produce nothing, silently).
    /// </summary>
    public IReadOnlyList<GeneratedTokens> GenerateWithReasons(IReadOnlyList<IReadOnlyList<long>> prompts, GenerationOptions? options = null)
    {
        options ??= new GenerationOptions();
        options.Validate();
        if (prompts.Count == 0) return [];
        if (prompts.Any(p => p.Count == 0)) throw new ArgumentException("Every prompt needs at least one token.");
        foreach (var p in prompts) CheckTokenIds(p);
        if (prompts.Select((p, i) => (p.Count, i)).FirstOrDefault(p => p.Count > Config.MaxPositions) is { Count: > 0 } tooLong)
            throw new ArgumentException($"prompt {(prompts.Count > 1 ? $"{tooLong.i} " : "")}has {tooLong.Count} tokens, but the model reads at most " +
                                        $"{Config.MaxPositions} positions; shorten it");
        var stops = (options.IgnoreEos ? [] : Config.EosTokenIds.Select(i => (long)i)).Concat(options.StopTokens).ToHashSet();
        int batch = prompts.Count, maxLen = prompts.Max(p => p.Count);
        long pad = Config.PadTokenId ?? (stops.Count > 0 ? stops.First() : 0);
        var device = Device;
        var generator = new Generator((ulong)options.Seed, device);

        // left padding keeps every row's last token in the last column
        var ids = new long[batch, maxLen];
        var mask = new long[batch, maxLen];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < prompts[b].Count; t++)
            {
                ids[b, maxLen - prompts[b].Count + t] = prompts[b][t];
                mask[b, maxLen - prompts[b].Count + t] = 1;
            }
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < maxLen - prompts[b].Count; t++) ids[b, t] = pad;

        var seen = prompts.Select(p => p.ToList()).ToList();
        var results = Enumerable.Range(0, batch).Select(_ => new List<long>()).ToList();
        var done = new bool[batch];
        bool contextFull = false;
        bool padded = prompts.Any(p => p.Count < maxLen);
        bool wasTraining = Module.training;
        Module.eval();
        using var noGrad = no_grad();
        // Every column the sequences can reach is allocated once: the ids and the mask grow by writing the next column
        // and narrowing, the KV cache by copying into its buffer, instead of concatenating every step. Step s writes
        // column maxLen + s, below both bounds of the capacity: s < MaxNewTokens, and the column is at most the context
        // (one past it ends generation before the write).
        long capacity = Math.Min((long)maxLen + options.MaxNewTokens, Config.MaxPositions + 1L);
        using var cache = options.UseCache ? new KvCache(Config.NumLayers, Math.Min(capacity, Config.MaxPositions)) : null;
        using var idsBuffer = full(batch, capacity, pad, ScalarType.Int64, device);
        using var maskBuffer = ones(batch, capacity, ScalarType.Int64, device);
        using (var promptIds = tensor(ids, device: device)) idsBuffer.narrow(1, 0, maxLen).copy_(promptIds);
        using (var promptMask = tensor(mask, device: device)) maskBuffer.narrow(1, 0, maxLen).copy_(promptMask);
        // the last column holds every row's newest token (left padding): the head only runs there
        using var lastColumn = zeros(batch, maxLen, ScalarType.Bool, device);
        lastColumn.narrow(1, maxLen - 1, 1).fill_(true);
        long length = maxLen;
        try
        {
            for (int step = 0; step < options.MaxNewTokens && done.Contains(false); step++)
            {
                using var scope = NewDisposeScope();
                if (length > Config.MaxPositions) { contextFull = true; break; }
                // a mask of ones (no padding, no finished row) is the same as none, and lets the model skip building one
                var stepMask = padded || done.Contains(true) ? maskBuffer.narrow(1, 0, length) : null;
                Tensor logits;
                if (cache is not null)
                {
                    var stepIds = idsBuffer.narrow(1, cache.Length, length - cache.Length);
                    using var output = Module.Forward(stepIds, stepMask, cache, logitPositions: step == 0 && maxLen > 1 ? lastColumn : null);
                    logits = (step == 0 && maxLen > 1 ? output.Logits : output.Logits.select(1, -1)).to_type(ScalarType.Float32);
                }
                else
                {
                    using var output = Module.Forward(idsBuffer.narrow(1, 0, length), stepMask);
                    logits = output.Logits.select(1, -1).to_type(ScalarType.Float32);
                }
                var next = PickNext(logits, seen, options, generator);
                var chosen = new long?[batch];
                for (int b = 0; b < batch; b++)
                {
                    if (done[b]) { next[b] = pad; continue; }
                    if (stops.Contains(next[b])) { done[b] = true; next[b] = pad; continue; }
                    results[b].Add(next[b]);
                    seen[b].Add(next[b]);
                    chosen[b] = next[b];
                }
                if (options.OnStep is { } onStep && !onStep(chosen)) break;
                idsBuffer.narrow(1, length, 1).copy_(tensor(next, device: device).unsqueeze(1));
                // a finished row's filler token is masked out so it never influences anything
                for (int b = 0; b < batch; b++)
                    if (done[b]) maskBuffer[b, length] = tensor(0L, device: device);
                length++;
            }
        }
        finally
        {
            Module.train(wasTraining);
        }
        return results.Select((r, b) => new GeneratedTokens(r.ToArray(),
            done[b] ? FinishReason.Stop : contextFull ? FinishReason.Context : FinishReason.Length)).ToList();
    }

    /// <summary>
    /// Refuses a token id outside [0, vocabulary) with an <see cref="ArgumentException"/> naming it; the embedding
    /// lookup would fail with a native "index out of range in self" that says neither which id nor why.
    /// </summary>
    internal void CheckTokenIds(IReadOnlyList<long> ids)
    {
        for (int i = 0; i < ids.Count; i++)
            if (ids[i] < 0 || ids[i] >= Config.VocabSize)
                throw new ArgumentException($"token id {ids[i]} at position {i} is outside the vocabulary [0, {Config.VocabSize})");
    }

    private static long[] PickNext(Tensor logits, List<List<long>> seen, GenerationOptions o, Generator generator)
    {
        if (o.RepetitionPenalty != 1.0)
        {
            logits = logits.clone();
            for (int b = 0; b < seen.Count; b++)
            {
                var idx = tensor(seen[b].Distinct().ToArray(), device: logits.device);
                var row = logits[b];
                var vals = row.index_select(0, idx);
                var penalised = where(vals.gt(0), vals / o.RepetitionPenalty, vals * o.RepetitionPenalty);
                row.index_copy_(0, idx, penalised);
            }
        }
        if (o.Temperature <= 0) return logits.argmax(-1).cpu().data<long>().ToArray();

        logits = logits / o.Temperature;
        if (o.TopK > 0 && o.TopK < logits.shape[1])
        {
            var kth = logits.topk(o.TopK, -1).values.select(1, -1).unsqueeze(1);
            logits = logits.masked_fill(logits.lt(kth), float.NegativeInfinity);
        }
        if (o.TopP < 1.0)
        {
            var (sorted, order) = logits.sort(-1, descending: true);
            var cumulative = F.softmax(sorted, -1).cumsum(-1);
            // drop a token when the tokens before it already reach p (so the first token always stays)
            var drop = (cumulative - F.softmax(sorted, -1)).ge(o.TopP);
            var dropOriginal = zeros_like(drop).scatter(1, order, drop);
            logits = logits.masked_fill(dropOriginal, float.NegativeInfinity);
        }
        var probs = F.softmax(logits, -1);
        return multinomial(probs, 1, generator: generator).squeeze(1).cpu().data<long>().ToArray();
    }
}
