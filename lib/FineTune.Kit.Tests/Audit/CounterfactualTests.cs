using FineTune.Kit.Audit;
using FineTune.Kit.Evaluation;
using FineTune.Kit.Prompting;
using FineTune.Kit.Sample;

namespace FineTune.Kit.Tests.Audit;

public class CounterfactualTests
{
    private const string SmallLexicon = """
        {
          "attributes": {
            "name": { "groups": { "f": ["Anna", "Beth"], "m": ["Carl", "Dave"] }, "templates": ["{text} -- {name}"] },
            "gender": { "groups": { "m": ["he", "his"], "f": ["she", "her"] } }
          },
          "sentiment": { "positive": ["great"], "negative": ["sorry"] }
        }
        """;

    private static CounterfactualLexicon Small()
    {
        var file = Path.Combine(TempFolder.Fresh(), "lexicon.json");
        File.WriteAllText(file, SmallLexicon);
        return CounterfactualLexicon.Load(file);
    }

    /// <summary>Says "refund" when the text names Anna (with probability 0.9), else "other" (0.8); reads nothing else.</summary>
    private sealed class ReadsAnna : ITextClassifier
    {
        public ClassifierOutput Classify(string input) => input.Contains("Anna", StringComparison.OrdinalIgnoreCase)
            ? new ClassifierOutput("refund", new Dictionary<string, double> { ["refund"] = 0.9, ["other"] = 0.1 })
            : new ClassifierOutput("other", new Dictionary<string, double> { ["refund"] = 0.2, ["other"] = 0.8 });
    }

    /// <summary>Labels by a keyword of the request only.</summary>
    private sealed class IgnoresNames : ITextClassifier
    {
        public ClassifierOutput Classify(string input) => input.Contains("parcel", StringComparison.Ordinal)
            ? new ClassifierOutput("shipping", new Dictionary<string, double> { ["shipping"] = 0.7, ["other"] = 0.3 })
            : new ClassifierOutput("other", new Dictionary<string, double> { ["shipping"] = 0.4, ["other"] = 0.6 });
    }

    [Fact]
    public void Terms_swap_to_the_same_position_in_the_other_group_keeping_case_and_whole_words()
    {
        var pairs = Small().Pairs(["Anna says HE lost his parcel; Annabel helped", "she asked beth"]);
        var gender = pairs.Where(p => p.Attribute == "gender").ToList();
        Assert.Equal("Anna says SHE lost her parcel; Annabel helped", gender[0].Counterfactual);
        Assert.Equal(("m", "f"), (gender[0].FromGroup, gender[0].ToGroup));
        Assert.Equal("he asked beth", gender[1].Counterfactual);
        var names = pairs.Where(p => p.Attribute == "name").ToList();
        Assert.Equal("Carl says HE lost his parcel; Annabel helped", names[0].Counterfactual);   // Annabel is not Anna
        Assert.Equal("she asked dave", names[1].Counterfactual);
        Assert.All(pairs, p => Assert.False(p.FromTemplate));
    }

    [Fact]
    public void A_text_without_the_attribute_gets_it_through_a_template()
    {
        var pairs = Small().Only("name").Pairs(["my parcel is late", "refund please"]);
        Assert.Equal(2, pairs.Count);
        // source 0 starts from group f, term 0; source 1 from group m, term 1
        Assert.Equal(("my parcel is late -- Anna", "my parcel is late -- Carl"), (pairs[0].Original, pairs[0].Counterfactual));
        Assert.Equal(("refund please -- Dave", "refund please -- Beth"), (pairs[1].Original, pairs[1].Counterfactual));
        Assert.All(pairs, p => Assert.True(p.FromTemplate));
        Assert.Empty(Small().Only("gender").Pairs(["my parcel is late"]));   // no term and no template: no pair
    }

    [Fact]
    public void A_classifier_that_reads_the_name_flips_at_the_expected_rate_and_one_that_ignores_it_never_flips()
    {
        var texts = new[] { "Anna: my parcel is late", "Beth: my parcel is late", "Carl: refund me", "Dave: refund me" };
        // pairs: Anna->Carl (flips), Beth->Dave (no), Carl->Anna (flips), Dave->Beth (no): 2 of 4
        var reads = CounterfactualInvariance.Of(new ReadsAnna()).Lexicon(Small().Only("name")).Resamples(200).Measure(texts)!;
        Assert.Equal(4, reads.Overall.Pairs);
        Assert.Equal(0.5, reads.Overall.FlipRate.Estimate, 12);
        // |Δp| of the original's label: Anna 0.9 -> 0.2 on "refund": 0.7; Beth/Dave "other" 0.8 -> 0.8: 0; Carl "other" 0.8 -> 0.1: 0.7
        Assert.Equal((0.7 + 0 + 0.7 + 0) / 4, reads.Overall.MeanAbsoluteChange!.Value.Estimate, 12);
        Assert.All(reads.WorstPairs.Take(2), p => Assert.True(p.Flipped));
        Assert.Equal(["name: f → m", "name: m → f"], reads.ByGroupPair.Select(g => g.Name).Order());

        var ignores = CounterfactualInvariance.Of(new IgnoresNames()).Lexicon(Small()).Resamples(200).Measure(texts)!;
        Assert.Equal(0, ignores.Overall.FlipRate.Estimate);
        Assert.Equal(0, ignores.Overall.FlipRate.Upper);
        Assert.Equal(0, ignores.Overall.MeanAbsoluteChange!.Value.Estimate);
    }

    [Fact]
    public void The_flip_rate_interval_covers_the_true_rate_at_about_the_nominal_rate()
    {
        // a classifier that reads the name on a random 30% of tickets: each name swap flips with probability 0.3
        const int seeds = 200;
        var covered = 0;
        var lexicon = Small().Only("name");
        for (var s = 0; s < seeds; s++)
        {
            var rng = new Random(500 + s);
            var texts = Enumerable.Range(0, 150).Select(i => $"{(rng.Next(2) == 0 ? "Anna" : "Carl")} ticket {i} {(rng.NextDouble() < 0.3 ? "reads" : "ignores")}").ToList();
            var classifier = new Flips();
            var result = CounterfactualInvariance.Of(classifier).Lexicon(lexicon).Resamples(400).Seed(s).Measure(texts)!;
            if (result.Overall.FlipRate.Contains(0.3)) covered++;
        }
        Assert.InRange(covered / (double)seeds, 0.90, 0.99);
    }

    /// <summary>Flips between two labels with the name, but only on texts marked "reads".</summary>
    private sealed class Flips : ITextClassifier
    {
        public ClassifierOutput Classify(string input) =>
            ClassifierOutput.LabelOnly(input.Contains("reads", StringComparison.Ordinal) && input.StartsWith("Anna", StringComparison.Ordinal) ? "a" : "b");
    }

    [Fact]
    public void A_classifier_without_probabilities_has_a_flip_rate_but_no_probability_change()
    {
        var result = CounterfactualInvariance.Of(new Flips()).Lexicon(Small().Only("name")).Resamples(50).Measure(["Anna reads", "Carl reads"])!;
        Assert.Equal(1, result.Overall.FlipRate.Estimate);
        Assert.Null(result.Overall.MeanAbsoluteChange);
    }

    [Fact]
    public void Reply_changes_are_measured_per_pair()
    {
        // the reply greets Anna warmly and at length, anyone else curtly
        string Reply(string prompt) => prompt.Contains("Anna", StringComparison.Ordinal) ? "great news, your refund is on its way" : "sorry, no";
        var result = GenerationInvariance.Of(Reply).Lexicon(Small().Only("name")).Judge((_, reply) => reply.Length).Resamples(100)
            .Measure(["Anna: refund please", "Beth: refund please"])!;
        Assert.Equal(2, result.Pairs);
        var first = result.Outcomes[0];   // Anna -> Carl
        Assert.Equal(2 - 8, first.LengthChange);
        Assert.Equal(-1 / 2.0 - 1 / 8.0, first.SentimentChange, 12);
        Assert.Equal("sorry, no".Length - "great news, your refund is on its way".Length, first.JudgeChange!.Value, 12);
        Assert.Equal(0, result.Outcomes[1].LengthChange);   // Beth -> Dave: both curt
        var length = result.Changes.Single(c => c.Measure == "length_words" && c.Attribute == "all");
        Assert.Equal(-6 / 2.0, length.MeanChange.Estimate, 12);
        Assert.Equal(6 / 2.0, length.MeanAbsoluteChange.Estimate, 12);
    }

    [Fact]
    public void Malformed_lexicon_files_are_errors_naming_the_file_and_the_place()
    {
        var dir = TempFolder.Fresh();
        string Write(string name, string json) { var f = Path.Combine(dir, name); File.WriteAllText(f, json); return f; }
        var notJson = Write("a.json", "{ attributes: ");
        Assert.StartsWith($"{notJson}: not valid JSON", Assert.Throws<DataFormatException>(() => CounterfactualLexicon.Load(notJson)).Message);
        var oneGroup = Write("b.json", """{"attributes": {"name": {"groups": {"f": ["Anna"]}}}}""");
        Assert.Equal($"{oneGroup}: attribute 'name' needs at least two groups to swap between, got 1",
            Assert.Throws<DataFormatException>(() => CounterfactualLexicon.Load(oneGroup)).Message);
        var number = Write("c.json", """{"attributes": {"name": {"groups": {"f": ["Anna", 3], "m": ["Carl"]}}}}""");
        Assert.Equal($"{number}: attributes.name.groups.f[1]: expected a string, got 3",
            Assert.Throws<DataFormatException>(() => CounterfactualLexicon.Load(number)).Message);
        var badTemplate = Write("d.json", """{"attributes": {"name": {"groups": {"f": ["Anna"], "m": ["Carl"]}, "templates": ["{text}"]}}}""");
        Assert.Contains("needs both {text} and {name}", Assert.Throws<DataFormatException>(() => CounterfactualLexicon.Load(badTemplate)).Message);
        Assert.Contains("no attribute age", Assert.Throws<ArgumentException>(() => Small().Only("age")).Message);
    }

    [Fact]
    public void The_default_lexicon_knows_every_name_and_region_of_the_sample()
    {
        var lexicon = CounterfactualLexicon.Default;
        Assert.Equal(["name", "gender", "place", "dialect", "politeness"], lexicon.Attributes.Select(a => a.Name));
        foreach (var name in FairnessSample.FemaleNames.Concat(FairnessSample.MaleNames))
            Assert.Single(lexicon.Find($"Regards, {name} Smith", "name"));
        for (var i = 0; i < FairnessSample.FemaleNames.Count; i++)
        {
            // the sample's names pair up the way the lexicon swaps them
            var pair = lexicon.Only("name").Pairs([FairnessSample.FemaleNames[i]]).Single();
            Assert.Equal(FairnessSample.MaleNames[i], pair.Counterfactual);
        }
        foreach (var region in FairnessSample.Regions)
            Assert.Equal(region, Assert.Single(lexicon.Find($"Maya Cohen, {region}", "place")).Group);
        Assert.Equal(CounterfactualLexicon.Parse(CounterfactualLexicon.DefaultJson, "copy").Attributes.Count, lexicon.Attributes.Count);
    }
}
