using System.Text.Json.Nodes;
using FineTune.Kit.Tests.Cli;

namespace FineTune.Kit.Tests.Preferences;

/// <summary>`ftk bench grpo` at a tiny size: it reports both ways of sampling and the GRPO steps, with consistent figures.</summary>
public class BenchGrpoTests
{
    [Fact]
    public void Bench_grpo_reports_batched_and_one_at_a_time_sampling_and_steps_per_second()
    {
        var (exit, output, err) = CliRunner.Run("bench", "grpo", "--model", CliData.SavedTinyModel(), "--prompts", "2", "--group-size", "3",
            "--max-new-tokens", "4", "--prompt-len", "3", "--steps", "1", "--json");
        Assert.True(exit == 0, err);
        var r = JsonNode.Parse(output)!;
        double F(string key) => r[key]!.GetValue<double>();
        Assert.All(new[] { "completions_per_second_batched", "completions_per_second_one_at_a_time", "grpo_steps_per_second" }, k => Assert.True(F(k) > 0, k));
        // the same 6 completions both ways: the speed-up is the ratio of the two rates, and a step samples 6 completions
        Assert.Equal(F("completions_per_second_batched") / F("completions_per_second_one_at_a_time"), F("speed_up"), 1);
        Assert.Equal(6 * F("grpo_steps_per_second"), F("grpo_completions_per_second"), 1);
        Assert.InRange(F("mean_completion_tokens_batched"), 0, 4);
    }

    [Fact]
    public void A_group_of_one_is_refused_in_one_line()
    {
        var (exit, _, err) = CliRunner.Run("bench", "grpo", "--group-size", "1");
        Assert.NotEqual(0, exit);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains("--group-size", err);
    }
}
