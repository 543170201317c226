using System.Text.Json.Nodes;
using FineTune.Kit.Models;
using FineTune.Kit.Tests.Models;

using FineTune.Kit.Tests.Preferences;

namespace FineTune.Kit.Tests.Cli;

public class PreferenceCommandTests
{
    private static string Pairs() => CliData.Jsonl(Enumerable.Range(0, 4).Select(i => new JsonObject
    {
        ["prompt"] = i % 2 == 0 ? "my parcel never arrived" : "please refund the double charge",
        ["chosen"] = "the tracking page is empty",
        ["rejected"] = "great service",
    }));

    private static long[] Ids(JsonNode node) => node.AsArray().Select(v => v!.GetValue<long>()).ToArray();

    [Fact]
    public void Dpo_training_then_preferences_json_reports_policy_and_reference_log_probabilities()
    {
        var dir = CliData.SavedTinyModel();
        var data = Pairs();
        var outDir = Path.Combine(TempFolder.Fresh(), "dpo");
        var (exit, output, err) = CliRunner.Run("train", "--objective", "dpo", "--model", dir, "--data", data, "--out", outDir,
            "--steps", "2", "--lr", "0.01", "--beta", "0.2", "--targets", "all-linear", "--lora-dropout", "0", "--device", "cpu");
        Assert.True(exit == 0, err);
        Assert.Contains("dpo:", output);
        var history = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "history.json")))!.AsArray();
        Assert.Equal(2, history.Count);
        Assert.Equal(Math.Log(2), history[0]!["loss"]!.GetValue<double>(), 5);
        foreach (var key in new[] { "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected" })
            Assert.NotNull(history[1]![key]);

        (exit, output, err) = CliRunner.Run("preferences", "--model", dir, "--adapter", outDir, "--data", data, "--json", "--device", "cpu");
        Assert.True(exit == 0, err);
        var report = JsonNode.Parse(output)!;
        var pairs = report["pairs"]!.AsArray();
        Assert.Equal(4, pairs.Count);
        var first = pairs[0]!;
        Assert.Null(first["score_chosen"]);
        Assert.Null(first["score_rejected"]);
        // the reference is the base model: check it against log-softmax sums over the base model's own logits
        using var baseModel = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        Assert.Equal(HandLogProbs.Sum(baseModel, Ids(first["prompt_ids"]!), Ids(first["chosen_ids"]!)), first["ref_logp_chosen"]!.GetValue<double>(), 3);
        Assert.Equal(HandLogProbs.Sum(baseModel, Ids(first["prompt_ids"]!), Ids(first["rejected_ids"]!)), first["ref_logp_rejected"]!.GetValue<double>(), 3);
        Assert.NotEqual(first["ref_logp_chosen"]!.GetValue<double>(), first["logp_chosen"]!.GetValue<double>(), 6);
        var margins = pairs.Select(p => p!["logp_chosen"]!.GetValue<double>() - p["ref_logp_chosen"]!.GetValue<double>()
                                        - p["logp_rejected"]!.GetValue<double>() + p["ref_logp_rejected"]!.GetValue<double>()).ToList();
        Assert.Equal(margins.Average(), report["mean_margin"]!.GetValue<double>(), 4);
        Assert.Equal(margins.Count(m => m > 0) / 4.0, report["accuracy"]!.GetValue<double>());
    }

    [Fact]
    public void Reward_training_writes_an_adapter_with_the_head_and_grpo_uses_it()
    {
        var dir = CliData.SavedTinyModel();
        var data = Pairs();
        var rmDir = Path.Combine(TempFolder.Fresh(), "rm");
        var (exit, _, err) = CliRunner.Run("train", "--objective", "reward", "--model", dir, "--data", data, "--out", rmDir,
            "--steps", "3", "--lr", "0.01", "--lora-dropout", "0", "--device", "cpu");
        Assert.True(exit == 0, err);
        Assert.Contains("score", File.ReadAllText(Path.Combine(rmDir, "adapter_config.json")));
        Assert.Contains("\"accuracy\"", File.ReadAllText(Path.Combine(rmDir, "history.json")));
        var seqCls = Path.Combine(rmDir, "sequence-classification");
        Assert.Contains("LlamaForSequenceClassification", File.ReadAllText(Path.Combine(seqCls, "config.json")));

        var (exit2, output, err2) = CliRunner.Run("preferences", "--model", dir, "--adapter", rmDir, "--data", data, "--json", "--device", "cpu");
        Assert.True(exit2 == 0, err2);
        var report = JsonNode.Parse(output)!;
        var pairs = report["pairs"]!.AsArray();
        var scoreMargins = pairs.Select(p => p!["score_chosen"]!.GetValue<double>() - p["score_rejected"]!.GetValue<double>()).ToList();
        Assert.Equal(scoreMargins.Average(), report["mean_margin"]!.GetValue<double>(), 5);

        var prompts = CliData.Jsonl([new JsonObject { ["prompt"] = "my parcel" }, new JsonObject { ["prompt"] = "please refund" }]);
        var policyDir = Path.Combine(TempFolder.Fresh(), "grpo");
        (exit, _, err) = CliRunner.Run("train", "--objective", "grpo", "--model", dir, "--data", prompts, "--out", policyDir,
            "--reward-model", seqCls, "--group-size", "2", "--kl", "0.1", "--max-new-tokens", "3", "--steps", "2", "--batch-size", "2", "--device", "cpu");
        Assert.True(exit == 0, err);
        var history = JsonNode.Parse(File.ReadAllText(Path.Combine(policyDir, "history.json")))!.AsArray();
        Assert.Equal(2, history.Count);
        foreach (var key in new[] { "reward", "reward_std", "kl", "entropy", "completion_length", "clip_ratio" })
            Assert.NotNull(history[0]![key]);
    }

    [Fact]
    public void Dpo_resume_continues_from_the_checkpoint_in_out_and_refuses_another_beta()
    {
        var dir = CliData.SavedTinyModel();
        var data = Pairs();
        var outDir = Path.Combine(TempFolder.Fresh(), "dpo");
        string[] Args(int steps, string beta, params string[] more) =>
            ["train", "--objective", "dpo", "--model", dir, "--data", data, "--out", outDir, "--steps", steps.ToString(), "--lr", "0.01",
             "--beta", beta, "--batch-size", "2", "--targets", "all-linear", "--lora-dropout", "0", "--device", "cpu", .. more];
        JsonArray History() => JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "history.json")))!.AsArray();

        var (exit, _, err) = CliRunner.Run(Args(2, "0.2", "--resume"));
        Assert.True(exit == 0, err);
        Assert.Contains("--resume: no checkpoint in", err);
        Assert.True(Directory.Exists(Path.Combine(outDir, "checkpoints", "checkpoint-000002")));
        var first = History().Select(s => s!["loss"]!.GetValue<double>()).ToList();

        (exit, _, err) = CliRunner.Run(Args(3, "0.2", "--resume"));
        Assert.True(exit == 0, err);
        Assert.DoesNotContain("no checkpoint", err);
        var resumed = History();
        Assert.Equal(3, resumed.Count);                                       // steps 1 and 2 come from the checkpoint
        Assert.Equal(first, resumed.Take(2).Select(s => s!["loss"]!.GetValue<double>()));

        (exit, _, err) = CliRunner.Run(Args(4, "0.3", "--resume"));
        Assert.NotEqual(0, exit);
        Assert.Contains("beta: checkpoint 0.2, now 0.3", err);
    }

    [Theory]
    [InlineData("--objective", "ppo", "--objective: 'ppo' is not one of sft, reward, dpo, grpo.")]
    [InlineData("--loss", "hinge", "--loss: 'hinge' is not sigmoid or ipo.")]
    [InlineData("--beta", "0", "--beta: 0 must be positive.")]
    [InlineData("--group-size", "1", "--group-size: 1 must be at least 2.")]
    public void Bad_objective_options_are_refused_in_one_line(string option, string value, string message)
    {
        using var tmp = new TempFolder();
        var args = new List<string>
        {
            "train", "--model", RepoFiles.PathOf("data/sample/base-model"), "--data", RepoFiles.PathOf("data/sample/preferences.jsonl"),
            "--out", tmp.File("out"), option, value,
        };
        if (option != "--objective") args.AddRange(["--objective", "dpo"]);
        var (exit, _, err) = CliRunner.Run([.. args]);
        Assert.NotEqual(0, exit);
        Assert.Equal($"ftk train: {message}", err.Trim());
    }
}
