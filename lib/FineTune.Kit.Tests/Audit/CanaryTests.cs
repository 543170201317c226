using System.Text.Json.Nodes;
using FineTune.Kit.Audit;

namespace FineTune.Kit.Tests.Audit;

[Collection(MemorisedModel.Collection)]
public class CanaryTests(MemorisedModel fixture)
{
    [Fact]
    public void Rank_and_exposure_follow_the_definition()
    {
        // two candidates are more likely (lower log-perplexity) than the canary: rank 3 of 5
        Assert.Equal(3, CanaryExposure.RankAmong(5.0, [1.0, 2.0, 6.0, 7.0]));
        Assert.Equal(Math.Log2(5) - Math.Log2(3), CanaryExposure.Exposure(3, 5), 12);
        // a tie counts in the canary's favour, so exposure is not under-stated
        Assert.Equal(1, CanaryExposure.RankAmong(2.0, [2.0, 3.0]));
        Assert.Equal(10, CanaryExposure.Exposure(1, 1024), 12);
        Assert.Equal(0, CanaryExposure.Exposure(1024, 1024), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => CanaryExposure.Exposure(6, 5));
    }

    [Fact]
    public void Canaries_are_seeded_distinct_and_of_the_format()
    {
        var a = CanarySet.Create(3, 4, seed: 11);
        var b = CanarySet.Create(3, 4, seed: 11);
        Assert.Equal(a.Inserted.Concat(a.Controls), b.Inserted.Concat(b.Controls));
        Assert.Equal(7, a.Inserted.Concat(a.Controls).Select(c => c.Secret).Distinct().Count());
        Assert.All(a.Inserted, c => Assert.Matches(@"^my code is \d \d \d \d \d \d$", c.Text));
        Assert.NotEqual(a.Inserted[0], CanarySet.Create(3, 4, seed: 12).Inserted[0]);
        Assert.Throws<ArgumentException>(() => CanarySet.Create(1, 1, format: new CanaryFormat(Length: 1, Alphabet: "01")));
        Assert.Throws<ArgumentException>(() => new CanaryFormat(Alphabet: "00").Validate());
    }

    [Fact]
    public void A_trained_in_canary_is_exposed_and_one_never_seen_is_not()
    {
        var trained = CanaryExposure.For(fixture.Trained).Measure(fixture.Canaries);
        Assert.Equal(1024, trained.Candidates);
        Assert.All(trained.Results.Where(r => r.Inserted), r => Assert.True(r.Exposure >= trained.MaxExposure - 1, $"inserted canary: rank {r.Rank}, exposure {r.Exposure}"));
        Assert.True(trained.MeanControlExposure < 4, $"controls: {string.Join(", ", trained.Results.Where(r => !r.Inserted).Select(r => r.Rank))}");
        var untrained = CanaryExposure.For(fixture.Untrained).Measure(fixture.Canaries);
        Assert.True(untrained.MeanInsertedExposure < 4, $"untrained: {string.Join(", ", untrained.Results.Select(r => r.Rank))}");

        var json = JsonNode.Parse(trained.ToJson())!;
        Assert.Equal(trained.MeanInsertedExposure, json["mean_inserted_exposure"]!.GetValue<double>());
        Assert.Equal(7, json["canaries"]!.AsArray().Count);
        Assert.DoesNotContain(fixture.Canaries.Inserted[0].Secret, trained.ToJson()); // the report does not repeat the secrets
        Assert.Contains("Canary exposure", trained.ToHtml());
    }

    [Fact]
    public void Canaries_go_into_a_data_file_and_the_set_round_trips()
    {
        using var tmp = new TempFolder();
        var original = new[] { "{\"text\": \"first row\"}", "{\"text\": \"second row\"}", "{\"text\": \"third row\"}" };
        File.WriteAllLines(tmp["train.jsonl"], original);
        var set = CanarySet.Create(2, 1, seed: 5, repeats: 3);
        Assert.Equal(6, set.InsertInto(tmp["train.jsonl"], tmp["train.canaries.jsonl"], seed: 1));
        var lines = File.ReadAllLines(tmp["train.canaries.jsonl"]);
        Assert.Equal(9, lines.Length);
        Assert.Equal(original, lines.Where(original.Contains));     // every original line, in order
        var planted = lines.Where(l => !original.Contains(l)).Select(l => JsonNode.Parse(l)!["text"]!.GetValue<string>()).ToList();
        Assert.Equal(3, planted.Count(t => t == set.Inserted[0].Text));
        Assert.Equal(3, planted.Count(t => t == set.Inserted[1].Text));
        Assert.DoesNotContain(set.Controls[0].Text, planted);

        File.WriteAllLines(tmp["pc.jsonl"], ["{\"prompt\": \"a\", \"completion\": \"b\"}"]);
        set.InsertInto(tmp["pc.jsonl"], tmp["pc.out.jsonl"]);
        var row = File.ReadAllLines(tmp["pc.out.jsonl"]).Select(l => JsonNode.Parse(l)!).First(n => n["prompt"]!.GetValue<string>() == "my code is");
        Assert.Equal(" " + set.Inserted[0].Secret, row["completion"]!.GetValue<string>());

        File.WriteAllLines(tmp["labelled.jsonl"], ["{\"text\": \"a\", \"label\": \"x\"}"]);
        var e = Assert.Throws<DataFormatException>(() => set.InsertInto(tmp["labelled.jsonl"], tmp["x.jsonl"]));
        Assert.Contains("labelled.jsonl:1", e.Message);

        set.Save(tmp["canaries.json"]);
        var back = CanarySet.Load(tmp["canaries.json"]);
        Assert.Equal(set.Inserted, back.Inserted);
        Assert.Equal(set.Controls, back.Controls);
        Assert.Equal(3, back.Repeats);
        File.WriteAllText(tmp["bad.json"], "{\"format\": {}}");
        Assert.Contains("bad.json", Assert.Throws<DataFormatException>(() => CanarySet.Load(tmp["bad.json"])).Message);
    }
}
