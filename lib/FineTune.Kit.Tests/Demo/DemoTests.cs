using System.Text.Json.Nodes;
using FineTune.Kit.Demo;
using FineTune.Kit.Models;
using FineTune.Kit.Tests.Build;
using FineTune.Kit.Tests.Models;
using FineTune.Kit.Training;

namespace FineTune.Kit.Tests.Demo;

public class DemoTests
{
    private static string Sample => Path.Combine(RepoFiles.Root, "data", "sample");

    [Fact]
    public void The_life_cycle_runs_end_to_end_on_a_reduced_setting()
    {
        var output = TempFolder.Fresh();
        var result = LifeCycleDemo.Run(new DemoOptions
        {
            DataDirectory = Sample, OutputDirectory = output, TestExamples = 24, Epochs = 1, MaxTrainExamples = 96,
            Explanations = 1, Replies = 1, ReplyExamples = 16, HeldOutReplies = 8,
        });
        var metrics = JsonNode.Parse(File.ReadAllText(result.MetricsPath))!;
        var names = metrics["comparison"]!.AsArray().Select(a => a!["name"]!.GetValue<string>()).ToArray();
        Assert.Equal(["zero-shot", "zero-shot, instruction prompt", "few-shot k=4", "LoRA r=8"], names);
        Assert.Equal(24, result.Comparison.Approaches[0].Classification.Examples.Count);
        Assert.All(metrics["comparison"]!.AsArray(), a =>
        {
            // an accuracy over 24 test examples is a whole number of them, inside its own interval
            var accuracy = a!["accuracy"]!.GetValue<double>();
            Assert.Equal(Math.Round(accuracy * 24), accuracy * 24, 6);
            var ci = a["accuracy_ci"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
            Assert.True(ci[0] <= accuracy && accuracy <= ci[1], $"{accuracy} outside [{ci[0]}, {ci[1]}]");
        });
        // a local model is not free: measured latency is priced at the default hardware price per hour
        Assert.All(metrics["comparison"]!.AsArray(), a => Assert.True(a!["cost_per_1k"]!.GetValue<double>() > 0, $"{a["name"]} costs 0"));
        Assert.False(string.IsNullOrWhiteSpace(metrics["recommendation"]!.GetValue<string>()));
        var html = File.ReadAllText(result.ReportPath);
        Assert.Contains("Plotly.newPlot", html);
        Assert.True(File.Exists(Path.Combine(output, "adapter", "adapter_model.safetensors")));
        using var merged = CausalLM.Load(Path.Combine(output, "merged-model"));
        Assert.NotNull(merged.Tokenizer);
        Assert.Equal(result.Curation.InputRows, result.Curation.OutputRows + result.Curation.Rules.Sum(r => r.Removed));
        Assert.True(Math.Abs(result.Explanations[0].EfficiencyGap) < 1e-4);
        var reply = Assert.Single(result.Replies);
        Assert.False(string.IsNullOrWhiteSpace(reply.Reply));
        Assert.Equal(8, metrics["replies"]!["held_out"]!.GetValue<int>());
        Assert.Equal(110_592, metrics["training"]!["trainable_params"]!.GetValue<long>());   // r·(in + out) over the 28 projections
        Assert.True(double.IsFinite(result.ReplyLoss.Base) && double.IsFinite(result.ReplyLoss.Merged));
    }

    [Fact]
    public void The_shipped_base_model_loads_and_beats_a_unigram_model_on_held_out_text()
    {
        using var model = CausalLM.Load(Path.Combine(Sample, "base-model"));
        Assert.Equal("llama", model.Config.ModelType);
        var card = File.ReadAllText(Path.Combine(Sample, "base-model", "README.md"));
        Assert.Contains("ftk pretrain", card);
        // a held-out ticket the pre-training never saw: its loss per token must be far below the unigram model's log(297)
        var ticket = File.ReadLines(Path.Combine(Sample, "support_tickets.heldout.jsonl")).First();
        var text = JsonNode.Parse(ticket)!["text"]!.GetValue<string>();
        var ids = model.RequireTokenizer().Encode(text).Select(i => (long)i).ToArray();
        double loss = Trainer.LossPerToken(model, [TokenizedExample.AllTokens(ids)]);
        Assert.True(loss < Math.Log(297.4) / 2, $"loss {loss}");
    }
}

public class PretrainingTests
{
    [Fact]
    public void Pretraining_a_tiny_config_reduces_the_loss_and_writes_a_hugging_face_folder()
    {
        var docs = Enumerable.Range(0, 60).Select(i => $"Ticket {i % 7}: my parcel number {i % 5} is late. Agent: sorry, parcel {i % 5} ships today.").ToList();
        var dir = Path.Combine(TempFolder.Fresh(), "model");
        var result = Pretraining.Run(docs, dir, new PretrainOptions
        {
            VocabSize = 300, Layers = 1, Hidden = 32, Heads = 2, KvHeads = 1, Ffn = 64, SeqLen = 32, Steps = 30, BatchSize = 8,
            LearningRate = 1e-2, SaveBf16 = false,
        });
        Assert.True(result.History.Steps[^1].Loss < result.History.Steps[0].Loss * 0.6);
        Assert.True(result.HeldOutPerplexity < result.UnigramPerplexity);
        foreach (var f in new[] { "config.json", "model.safetensors", "tokenizer.json", "generation_config.json", "README.md" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        using var loaded = CausalLM.Load(dir);
        Assert.Equal(300, loaded.Config.VocabSize);
    }
}
