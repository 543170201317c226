using System.Text.Json.Nodes;
using FineTune.Kit.Audit;
using FineTune.Kit.Evaluation;
using FineTune.Kit.Training;

namespace FineTune.Kit.Tests.Audit;

[Collection(MemorisedModel.Collection)]
public class MembershipTests(MemorisedModel fixture)
{
    [Fact]
    public void Gap_and_auc_equal_hand_computed_values()
    {
        // gap = mean(3, 1.5) − mean(1, 2) = 0.75; of the four (train, held-out) pairs, three have the lower loss in training
        var report = MembershipReport.FromLosses([1.0, 2.0], [3.0, 1.5], new Bootstrap(200, 0.95, 1));
        Assert.Equal(0.75, report.Gap.Estimate, 12);
        Assert.Equal(0.75, report.Auc.Estimate, 12);
        Assert.Equal(0.5, MembershipReport.FromLosses([1.0], [1.0], new Bootstrap(10)).Auc.Estimate);  // a tie counts half
        Assert.Equal(0.0, MembershipReport.FromLosses([2.0, 3.0], [1.0], new Bootstrap(10)).Auc.Estimate);
        Assert.Throws<ArgumentException>(() => MembershipReport.FromLosses([double.NaN], [1.0], new Bootstrap(10)));
    }

    [Fact]
    public void The_loss_of_an_example_is_the_trainers_loss_per_token()
    {
        var text = fixture.HeldOut[0];
        var ids = fixture.Tokenizer.Encode(text).Select(i => (long)i).ToArray();
        var expected = Trainer.LossPerToken(fixture.Trained, [TokenizedExample.AllTokens(ids)]);
        Assert.Equal(expected, MembershipSignal.For(fixture.Trained).Losses("held-out", [text])[0], 4);
    }

    [Fact]
    public void An_overfit_model_shows_a_gap_and_an_untrained_one_does_not()
    {
        var overfit = MembershipSignal.For(fixture.Trained).Measure(fixture.Train, fixture.HeldOut);
        Assert.True(overfit.Gap.Lower > 0, $"gap {overfit.Gap}");
        Assert.True(overfit.Auc.Estimate > 0.9, $"AUC {overfit.Auc}");
        var untrained = MembershipSignal.For(fixture.Untrained).Measure(fixture.Train, fixture.HeldOut);
        Assert.True(untrained.Gap.Contains(0), $"gap {untrained.Gap}");

        var json = JsonNode.Parse(overfit.ToJson())!;
        Assert.Equal(overfit.Gap.Estimate, json["gap"]!.GetValue<double>());
        Assert.Equal(overfit.Gap.Lower, json["gap_ci"]![0]!.GetValue<double>());
        Assert.Equal(16, json["train_losses"]!.AsArray().Count);
        Assert.Equal(2, overfit.Charts().Count);
    }
}
