using System.Text.Json.Nodes;
using FineTune.Kit.Demo;
using FineTune.Kit.Plots;

namespace FineTune.Kit.Tests.Demo;

public class PreferenceStoryTests
{
    [Fact]
    public void Margins_split_into_easy_and_hard_negatives_as_computed_by_hand()
    {
        // margins 1, −1 on brush-offs; 2, −3 on hard kinds; 5 on a pair of unknown kind (counted overall only)
        var s = PairSeparation.From("x", [1, -1, 2, -3, 5], ["brush_off", "short_off_topic", "wrong_intent", "wrong_amount", "unknown"]);
        Assert.Equal(3 / 5.0, s.Accuracy, 12);
        Assert.Equal(0.5, s.EasyAccuracy, 12);
        Assert.Equal(0.5, s.HardAccuracy, 12);
        Assert.Equal(0, s.EasyMeanMargin, 12);
        Assert.Equal(-0.5, s.HardMeanMargin, 12);
        Assert.Throws<ArgumentException>(() => PairSeparation.From("x", [1], []));
    }

    [Fact]
    public void Out_of_range_settings_are_refused_naming_the_setting()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new PreferenceStoryOptions { GroupSize = 1 }.Validate());
        Assert.Contains("GroupSize", e.Message);
        Assert.Contains("Beta", Assert.Throws<ArgumentOutOfRangeException>(() => new PreferenceStoryOptions { Beta = 0 }.Validate()).Message);
    }

    [Fact]
    public void At_tiny_sizes_the_story_runs_every_approach_and_writes_a_report()
    {
        var options = new PreferenceStoryOptions
        {
            DataDirectory = Path.Combine(RepoFiles.Root, "data", "sample"), TestTickets = 3, SftReplies = 4, HeldOutPairs = 4, MaxTrainPairs = 4,
            RewardEpochs = 1, GrpoSteps = 1, GroupSize = 2, MaxNewTokens = 6,
        };
        var report = PreferenceStory.Run(options);
        Assert.Equal(["base", "SFT", "SFT + DPO", "SFT + RM + GRPO"], report.Approaches.Select(a => a.Name));
        foreach (var a in report.Approaches)
        {
            Assert.Equal(3, a.Replies.Count);
            Assert.All(a.Scores, s => Assert.InRange(s.Score, 0, 1));
            Assert.True(a.Score.Lower <= a.Score.Estimate && a.Score.Estimate <= a.Score.Upper);
        }
        Assert.Equal(0, report.DifferenceFromSft(report.Approaches[1]).Estimate, 12);
        Assert.Equal(["relevance judge", "reward model", "DPO implicit reward"], report.Separation.Select(s => s.Scorer));
        Assert.All(report.Separation, s => Assert.Equal(4, s.Margins.Count));
        Assert.Equal(4, report.TrainPairs);
        Assert.True(report.Charts().Count >= 4);

        var json = JsonNode.Parse(report.ToJson())!;
        Assert.Equal(4, json["approaches"]!.AsArray().Count);
        Assert.NotNull(json["approaches"]![0]!["judge_score"]!["lower"]);
        Assert.Equal(4, json["held_out_pairs"]!["kinds"]!.AsArray().Count);
        var dir = TempFolder.Fresh();
        report.Save(dir);
        Assert.True(File.Exists(Path.Combine(dir, ReportFolder.HtmlFile)));
        Assert.Contains("SFT + RM + GRPO", File.ReadAllText(Path.Combine(dir, ReportFolder.HtmlFile)));
    }
}
