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
/// <param name="PrefillCpuSeconds">CPU time of the whole process during prefill (NaN when not measured).</param>
/// <param name="DecodeCpuSeconds">CPU time of the whole process during decode (NaN when not measured). With one
/// compute thread on a machine other work also loads, CPU time counts the work done where wall time also counts waiting.</param>
public sealed record GenerationTiming(int PromptTokens, long[] Tokens, double PrefillSeconds, double DecodeSeconds,
    double PrefillCpuSeconds = double.NaN, double DecodeCpuSeconds = double.NaN)
{
    /// <summary>Prompt tokens per second of prefill.</summary>
    public double PrefillTokensPerSecond => PromptTokens / PrefillSeconds;

    /// <summary>New tokens per second after the first (NaN with fewer than two new tokens).</summary>
    public double DecodeTokensPerSecond => Tokens.Length > 1 ? (Tokens.Length - 1) / DecodeSeconds : double.NaN;

    /// <summary>Milliseconds per decoded token (NaN with fewer than two new tokens).</summary>
    public double DecodeMsPerToken => 1000 / DecodeTokensPerSecond;

    /// <summary>Prompt tokens per second of process CPU time in prefill.</summary>
    public double PrefillTokensPerCpuSecond => PromptTokens / PrefillCpuSeconds;

    /// <summary>New tokens after the first per second of process CPU time in decode.</summary>
    public double DecodeTokensPerCpuSecond => Tokens.Length > 1 ? (Tokens.Length - 1) / DecodeCpuSeconds : double.NaN;

    /// <summary>Wall-clock and process CPU time now, for timing a phase.</summary>
    public static (long Ticks, TimeSpan Cpu) Now() => (Stopwatch.GetTimestamp(), Environment.CpuUsage.TotalTime);

    /// <summary>Seconds of wall-clock and of CPU time between two <see cref="Now"/> readings.</summary>
    public static (double Wall, double Cpu) Between((long Ticks, TimeSpan Cpu) from, (long Ticks, TimeSpan Cpu) to) =>
        ((to.Ticks - from.Ticks) / (double)Stopwatch.Frequency, (to.Cpu - from.Cpu).TotalSeconds);

    /// <summary>
    /// Times greedy generation of exactly <paramref name="newTokens"/> tokens after <paramref name="prompt"/> with the
    /// KV cache (eos ids do not stop it), through <see cref="CausalLM.GenerateWithReasons"/> (via Generate) itself: the step callback marks the
    /// moment each token is chosen.
    /// </summary>
    public static GenerationTiming Measure(CausalLM model, IReadOnlyList<long> prompt, int newTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(newTokens, 1);
        (long, TimeSpan) first = default, last = default;
        int steps = 0;
        var start = Now();
        var tokens = model.Generate([prompt], new GenerationOptions
        {
            MaxNewTokens = newTokens, IgnoreEos = true,
            OnStep = _ =>
            {
                if (steps++ == 0) first = Now();
                else if (steps == newTokens) last = Now();
                return true;
            },
        })[0];
        if (steps == 1) last = first;
        var (prefill, prefillCpu) = Between(start, first);
        var (decode, decodeCpu) = Between(first, last);
        return new GenerationTiming(prompt.Count, tokens, prefill, decode, prefillCpu, decodeCpu);
    }
}
