using System.Diagnostics;

namespace FineTune.Kit.Models;

/// <summary>
/// One timed greedy generation at batch 1: the prompt's forward pass up to the first new token (prefill), then one
/// step per further token (decode). Tokens/s figures count the prompt for prefill and the new tokens after the first
/// for decode, as llama.cpp's own timings do.
/// </summary>
/// <param name="PromptTokens">Tokens in the prompt.</param>
/// <param name="Tokens">The new tokens, in order.</param>
/// <param name="PrefillSeconds">From the call to the first new token.</param>
/// <param name="DecodeSeconds">From the first new token to the last.</param>
public sealed record GenerationTiming(int PromptTokens, long[] Tokens, double PrefillSeconds, double DecodeSeconds)
{
    /// <summary>Prompt tokens per second of prefill.</summary>
    public double PrefillTokensPerSecond => PromptTokens / PrefillSeconds;

    /// <summary>New tokens per second after the first (NaN with fewer than two new tokens).</summary>
    public double DecodeTokensPerSecond => Tokens.Length > 1 ? (Tokens.Length - 1) / DecodeSeconds : double.NaN;

    /// <summary>Milliseconds per decoded token (NaN with fewer than two new tokens).</summary>
    public double DecodeMsPerToken => 1000 / DecodeTokensPerSecond;

    /// <summary>
    /// Times greedy generation of exactly <paramref name="newTokens"/> tokens after <paramref name="prompt"/> with the
    /// KV cache (eos ids do not stop it), through <see cref="CausalLM.GenerateWithReasons"/> (via Generate) itself: the step callback marks the
    /// moment each token is chosen.
    /// </summary>
    public static GenerationTiming Measure(CausalLM model, IReadOnlyList<long> prompt, int newTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(newTokens, 1);
        var marks = new List<long>(newTokens);
        long start = Stopwatch.GetTimestamp();
        var tokens = model.Generate([prompt], new GenerationOptions
        {
            MaxNewTokens = newTokens, IgnoreEos = true,
            OnStep = _ => { marks.Add(Stopwatch.GetTimestamp()); return true; },
        })[0];
        double Seconds(long from, long to) => (to - from) / (double)Stopwatch.Frequency;
        return new GenerationTiming(prompt.Count, tokens, Seconds(start, marks[0]), Seconds(marks[0], marks[^1]));
    }
}
