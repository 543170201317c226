using System.Text.Json.Nodes;

namespace FineTune.Kit.Tests.Cli;

public class RelevanceRewardCommandTests
{
    [Fact]
    public void Grpo_trains_with_the_relevance_judge_as_its_reward()
    {
        var dir = CliData.SavedTinyModel();
        var prompts = CliData.Jsonl([
            new JsonObject { ["prompt"] = "my parcel never arrived", ["label"] = "shipping_delay" },
            new JsonObject { ["prompt"] = "please refund the double charge" },
        ]);
        var policyDir = Path.Combine(TempFolder.Fresh(), "grpo");
        var (exit, _, err) = CliRunner.Run("train", "--objective", "grpo", "--model", dir, "--data", prompts, "--out", policyDir,
            "--reward", "relevance", "--group-size", "2", "--max-new-tokens", "3", "--steps", "2", "--batch-size", "2", "--device", "cpu");
        Assert.True(exit == 0, err);
        var history = JsonNode.Parse(File.ReadAllText(Path.Combine(policyDir, "history.json")))!.AsArray();
        Assert.Equal(2, history.Count);
        // the judge's scores lie in [0, 1], so their mean does too
        Assert.InRange(history[0]!["reward"]!.GetValue<double>(), 0, 1);
    }

    [Fact]
    public void A_label_the_judge_does_not_know_is_refused_naming_the_row()
    {
        var dir = CliData.SavedTinyModel();
        var prompts = CliData.Jsonl([new JsonObject { ["prompt"] = "my parcel", ["label"] = "shipping" }]);
        var (exit, _, err) = CliRunner.Run("train", "--objective", "grpo", "--model", dir, "--data", prompts, "--out", Path.Combine(TempFolder.Fresh(), "o"),
            "--reward", "relevance", "--steps", "1", "--device", "cpu");
        Assert.NotEqual(0, exit);
        Assert.Contains("--reward relevance: prompt row 1 has the label 'shipping'", err);
    }

    [Fact]
    public void Grpo_without_any_reward_is_refused()
    {
        var prompts = CliData.Jsonl([new JsonObject { ["prompt"] = "my parcel" }]);
        var (exit, _, err) = CliRunner.Run("train", "--objective", "grpo", "--model", RepoFiles.PathOf("data/sample/base-model"), "--data", prompts,
            "--out", Path.Combine(TempFolder.Fresh(), "o"));
        Assert.NotEqual(0, exit);
        Assert.Equal("ftk train: --objective grpo needs a reward: give --reward-model DIR and/or --reward relevance.", err.Trim());
    }
}
