using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Preferences;
using FineTune.Kit.Tests.Models;
using FineTune.Kit.Training;
using static TorchSharp.torch;

namespace FineTune.Kit.Tests.Preferences;

public class RewardModelTests
{
    [Fact]
    public void Bradley_terry_loss_matches_hand_computed_values()
    {
        var c = tensor(new[] { 2f, 0f });
        var r = tensor(new[] { 0.5f, 1f });
        var loss = RewardTrainer.Loss(c, r).data<float>().ToArray();
        Assert.Equal(Math.Log(1 + Math.Exp(-1.5)), loss[0], 5);
        Assert.Equal(Math.Log(1 + Math.Exp(1.0)), loss[1], 5);
        Assert.Equal(Math.Log(1 + Math.Exp(-0.5)), RewardTrainer.Loss(c, r, margin: 1).data<float>()[0], 5);
    }

    [Fact]
    public void The_score_reads_the_last_real_token_so_padding_changes_nothing()
    {
        using var model = TinyModels.Random(TinyModels.Llama(), seed: 3);
        var rm = RewardModel.Attach(model, seed: 1);
        long[] p = [1, 2, 3];
        var alone = rm.Score([(p, new long[] { 4 })]);
        var batched = rm.Score([(p, new long[] { 4 }), (p, new long[] { 5, 6, 7, 8, 9 })]);
        Assert.Equal(alone[0], batched[0], 5);
        // by hand: head · final hidden state (after the final norm) of the last token
        using var _ = no_grad();
        using var output = model.Module.Forward(tensor(new long[] { 1, 2, 3, 4 }).unsqueeze(0), outputHiddenStates: true);
        var h = output.HiddenStates![^1][0, 3];
        Assert.Equal((double)(h * rm.Head.weight![0]).sum().item<float>(), alone[0], 5);
    }

    [Fact]
    public void Training_with_lora_and_the_head_as_module_to_save_raises_pairwise_accuracy()
    {
        using var model = TinyModels.Random(TinyModels.Llama(), seed: 3);
        using (no_grad()) model.Module.EmbeddingMatrix.mul_(25);   // token identity strong enough to read after a random base
        var rm = RewardModel.Attach(model, seed: 1);
        var adapter = model.AddLora(r: 4, alpha: 8, targets: ["all-linear"], dropout: 0, modulesToSave: ["score"], seed: 2);
        Assert.Contains("score", adapter.SavedModules);
        var rng = new Random(1);
        // chosen responses end in 11, rejected ones in 12: learnable from the last token alone
        var pairs = PreferenceData.FromPairs(Enumerable.Range(0, 16).Select(_ =>
        {
            long a = rng.Next(1, 10), b = rng.Next(1, 10);
            return new PreferencePair([a, b], [b, 11], [a, 12]);
        }));
        // start from a head that orders the pairs wrongly, so that learning has something to show
        if (rm.Evaluate(pairs).Accuracy > 0.5) using (no_grad()) rm.Head.weight!.neg_();
        var before = rm.Evaluate(pairs);
        var run = rm.Trainer().LearningRate(3e-2).Schedule(LrScheduleKind.Constant).Steps(40).BatchSize(8).Seed(2).Fit(pairs);
        var after = rm.Evaluate(pairs);
        Assert.True(before.Accuracy < 0.5, $"before {before.Accuracy}");
        Assert.True(after.Accuracy == 1.0, $"accuracy {before.Accuracy} -> {after.Accuracy}; loss {string.Join(" ", run.History.Steps.Select(x => x.Loss.ToString("F3")))}");
        Assert.True(after.MeanMargin > before.MeanMargin + 1, $"margin {before.MeanMargin} -> {after.MeanMargin}");
        Assert.True(run.History.Steps[^1].Loss < run.History.Steps[0].Loss * 0.5);
        Assert.Equal(16, after.Margins.Count);

        // the adapter carries the head (PEFT modules_to_save) and loads back to the same scores
        var dir = TempFolder.Fresh();
        adapter.Save(dir);
        using var again = TinyModels.Random(TinyModels.Llama(), seed: 3);
        using (no_grad()) again.Module.EmbeddingMatrix.mul_(25);
        var rm2 = RewardModel.Attach(again, seed: 99);
        again.LoadAdapter(dir);
        Assert.Equal(after.Margins, rm2.Evaluate(pairs).Margins);

        // and merged, as a Hugging Face *ForSequenceClassification folder
        var seqCls = Path.Combine(TempFolder.Fresh(), "rm");
        adapter.MergeAndUnload();
        rm.SaveForSequenceClassification(seqCls);
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(seqCls, "config.json")))!;
        Assert.Equal("LlamaForSequenceClassification", config["architectures"]![0]!.GetValue<string>());
        Assert.Single(config["id2label"]!.AsObject());
        using var st = SafeTensorFolder.Open(seqCls).Read("score.weight");
        Assert.Equal(new long[] { 1, 16 }, st.shape);
        var loaded = RewardModel.LoadForSequenceClassification(seqCls, new LoadOptions { Device = "cpu" });
        using (loaded.Model)
        {
            var m = loaded.Evaluate(pairs).Margins;
            for (int i = 0; i < m.Count; i++) Assert.Equal(after.Margins[i], m[i], 4);
        }
    }

    [Fact]
    public void A_frozen_head_is_refused_with_the_fix()
    {
        using var model = TinyModels.Random(TinyModels.Llama(), seed: 3);
        var rm = RewardModel.Attach(model);
        model.AddLora(r: 2, dropout: 0);
        var e = Assert.Throws<InvalidOperationException>(() => rm.Trainer().Steps(1).Fit(DpoTests.Pairs()));
        Assert.Contains("modulesToSave", e.Message);
    }
}
