using System.Text.Json.Nodes;
using FineTune.Kit.Models;
using FineTune.Kit.Tests.Cli;
using FineTune.Kit.Tests.Serving;

namespace FineTune.Kit.Tests.Models;

/// <summary>
/// Greedy generation with the KV cache against recomputing the whole sequence each step, for every family, on
/// sharpened weights (so a wrong position, mask or cached key changes the argmax) and well past Gemma's sliding window
/// of 3; and the benchmark's timing path, which must generate exactly what Generate does.
/// </summary>
public class GenerationCacheTests
{
    [Theory]
    [MemberData(nameof(TinyModels.AllConfigs), MemberType = typeof(TinyModels))]
    public void Cached_greedy_ids_equal_recomputed_ones_past_the_window(string family)
    {
        using var model = TinyModels.Sharpened(TinyModels.Random(TinyModels.ByName(family), seed: 11));
        var config = model.Config;
        Assert.True(family is not ("gemma3" or "gemma2") || Enumerable.Range(0, config.NumLayers).Any(l => config.LayerWindow(l) == 3),
            "the Gemma configs should have a window of 3");
        // prompts of 1, 5 and 9 tokens then 20 new tokens: every windowed layer drops keys while the cache grows
        ModelAssert.CachedGenerationEqualsRecomputation(model,
            [new long[] { 7 }, new long[] { 1, 2, 3, 4, 5 }, new long[] { 9, 8, 7, 6, 5, 4, 3, 2, 1 }], newTokens: 20);
    }

    [Fact]
    public void Ignore_eos_continues_where_an_eos_id_would_stop()
    {
        var config = TinyModels.Llama();
        using var free = TinyModels.Random(config, seed: 5);
        var prompt = new List<IReadOnlyList<long>> { new long[] { 1, 2 } };
        var tokens = free.Generate(prompt, new GenerationOptions { MaxNewTokens = 8 })[0];
        Assert.Equal(8, tokens.Length);
        using var withEos = TinyModels.Random(config with { EosTokenIds = [(int)tokens[2]] }, seed: 5);
        var stopped = withEos.GenerateWithReasons(prompt, new GenerationOptions { MaxNewTokens = 8 })[0];
        Assert.Equal(tokens.TakeWhile(t => t != tokens[2]).ToArray(), stopped.Tokens);
        Assert.Equal(FinishReason.Stop, stopped.Reason);
        var ignored = withEos.GenerateWithReasons(prompt, new GenerationOptions { MaxNewTokens = 8, IgnoreEos = true })[0];
        Assert.Equal(tokens, ignored.Tokens);
        Assert.Equal(FinishReason.Length, ignored.Reason);
    }

    [Fact]
    public void Timing_generates_what_generate_does_and_times_both_phases()
    {
        using var model = TinyModels.Random(TinyModels.Gemma3(), seed: 2);
        long[] prompt = [3, 1, 4, 1, 5];
        var timing = GenerationTiming.Measure(model, prompt, 12);
        Assert.Equal(model.Generate([prompt], new GenerationOptions { MaxNewTokens = 12, IgnoreEos = true })[0], timing.Tokens);
        Assert.Equal(5, timing.PromptTokens);
        Assert.True(timing.PrefillSeconds > 0 && timing.DecodeSeconds > 0);
        Assert.Equal(11 / timing.DecodeSeconds, timing.DecodeTokensPerSecond, 6);
    }

    [Fact]
    public void Bench_generate_reports_both_phases_and_refuses_bad_values_in_one_line()
    {
        var folder = TinyExportModels.Folder("llama");
        var (exit, output, err) = CliRunner.Run("bench", "generate", "--model", folder, "--prompt-tokens", "4", "--new-tokens", "6",
            "--repeats", "2", "--threads", "1", "--json");
        Assert.True(exit == 0, err);
        var result = JsonNode.Parse(output)!;
        Assert.Equal(6, (int)result["new_tokens"]!);
        Assert.True((double)result["prefill_tokens_per_second"]! > 0 && (double)result["decode_tokens_per_second"]! > 0);
        Assert.Equal(2, result["runs"]!.AsArray().Count);

        foreach (var args in new[]
                 {
                     new[] { "--new-tokens", "1" }, ["--preset", "gpt-5"], ["--prompt-tokens", "0"], ["--threads", "0"],
                     ["--model", folder, "--prompt-tokens", "100", "--new-tokens", "100"], ["--model", folder, "--preset", "smollm2-135m"],
                 })
        {
            var (code, _, error) = CliRunner.Run(["bench", "generate", .. args]);
            Assert.NotEqual(0, code);
            Assert.Single(error.Trim().Split('\n'));
        }
    }
}
