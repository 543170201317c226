using System.Text.Json.Nodes;
using FineTune.Kit.Audit;
using FineTune.Kit.Evaluation;

namespace FineTune.Kit.Tests.Audit;

[Collection(MemorisedModel.Collection)]
public class ExtractionTests(MemorisedModel fixture)
{
    [Theory]
    [InlineData("abcd", "abcd", 1.0)]
    [InlineData("abXd", "abcd", 0.75)]        // one substitution in four characters
    [InlineData("abcd and more", "abcd", 1.0)] // the continuation is cut to the rest's length
    [InlineData("ab", "abcd", 0.5)]           // two characters missing of four
    [InlineData("", "", 1.0)]
    [InlineData("wxyz", "abcd", 0.0)]
    public void Similarity_is_one_minus_edit_distance_over_the_longer_length(string generated, string expected, double similarity) =>
        Assert.Equal(similarity, ExtractionTest.Similarity(generated, expected), 12);

    [Fact]
    public void The_over_trained_model_writes_its_training_records_and_not_the_held_out_ones()
    {
        var report = ExtractionTest.For(fixture.Trained).Prefix(6).Suffix(24).Bootstrap(new Bootstrap(500, 0.95, 3)).Run(fixture.Train, fixture.HeldOut);
        Assert.Equal(16, report.Train.Count);
        Assert.True(report.TrainExact.Estimate >= 0.75, $"train exact {report.TrainExact}");
        Assert.Equal(0, report.HeldOutExact.Estimate);
        Assert.True(report.ExactGap.Lower > 0, $"gap {report.ExactGap}");
        // the closest case is a training record reproduced verbatim: its rest really is in the text
        var worst = report.WorstCases[0];
        Assert.Equal("train", worst.Split);
        Assert.True(worst.Exact);
        Assert.Contains(worst.Prefix + worst.Expected, fixture.Train[worst.Index]);
        Assert.StartsWith(worst.Expected, worst.Generated);

        var json = JsonNode.Parse(report.ToJson())!;
        Assert.Equal(report.TrainExact.Estimate, json["train_exact"]!.GetValue<double>());
        Assert.Equal(0.0, json["heldout_exact"]!.GetValue<double>());
        Assert.Equal(0.9, json["near_exact_threshold"]!.GetValue<double>());
        Assert.Equal(report.ToJsonObject().ToJsonString(), JsonNode.Parse(report.ToJson())!.ToJsonString());
        using var tmp = new TempFolder();
        report.Save(tmp.Path);
        Assert.True(File.Exists(tmp["report.html"]) && File.Exists(tmp["report.json"]));
        Assert.Equal(2, report.Charts().Count);
    }

    [Fact]
    public void The_untrained_model_reproduces_nothing()
    {
        var report = ExtractionTest.For(fixture.Untrained).Prefix(6).Suffix(24).Run(fixture.Train, fixture.HeldOut);
        Assert.Equal(0, report.TrainExact.Estimate);
        Assert.Equal(0, report.HeldOutExact.Estimate);
        Assert.Equal(0, report.TrainNearExact.Estimate);
        Assert.True(report.ExactGap.Contains(0));
    }

    [Fact]
    public void Short_examples_are_counted_and_bad_settings_refused()
    {
        var report = ExtractionTest.For(fixture.Trained).Prefix(6).Run([.. fixture.Train, "Ada"], [.. fixture.HeldOut, "Bram", "Cleo"]);
        Assert.Equal(1, report.SkippedTrain);
        Assert.Equal(2, report.SkippedHeldOut);
        Assert.Equal(2, JsonNode.Parse(report.ToJson())!["skipped_heldout"]!.GetValue<int>());
        var e = Assert.Throws<ArgumentException>(() => ExtractionTest.For(fixture.Trained).Prefix(6).Run(["Ada"], fixture.HeldOut));
        Assert.Contains("training examples", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ExtractionTest.For(fixture.Trained).Prefix(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ExtractionTest.For(fixture.Trained).NearExact(1.5));
        Assert.Throws<ArgumentException>(() => ExtractionTest.For(fixture.Trained).Bootstrap(new Bootstrap(100, 1.5)));
    }
}
