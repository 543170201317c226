using FineTune.Kit.Evaluation;
using FineTune.Kit.Evaluation.Comparison;
using FineTune.Kit.Prompting;
using FineTune.Kit.Data;

namespace FineTune.Kit.Tests.Prompting;

public class PromptedClassifierTests
{
    private static readonly PromptTemplate Template = PromptTemplate.WithInstruction("Sentiment?")
        .WithInputPrefix("Review: ").WithOutputPrefix("Sentiment:").WithLabels("positive", "negative");

    /// <summary>A stand-in model: favours "positive" when the last review line contains "good".</summary>
    private static IReadOnlyList<double> Scorer(string prompt, IReadOnlyList<string> continuations)
    {
        var lastReview = prompt.Split('\n').Last(l => l.StartsWith("Review: ", StringComparison.Ordinal));
        var good = lastReview.Contains("good");
        return continuations.Select(c => c.Trim() == "positive" == good ? Math.Log(0.9) : Math.Log(0.1)).ToArray();
    }

    [Fact]
    public void Softmax_of_label_log_likelihoods_gives_probabilities()
    {
        var c = new PromptedClassifier(Template, Scorer).TokenCounter(t => t.Length);
        var o = c.Classify("a good film");
        Assert.Equal("positive", o.Label);
        Assert.Equal(0.9, o.Probabilities["positive"], 12);
        Assert.Equal(0.1, o.Probabilities["negative"], 12);
        Assert.Equal(c.PromptFor("a good film").Length, o.PromptTokens);
        Assert.NotNull(o.Latency);
    }

    [Fact]
    public void Softmax_is_stable_for_large_log_scores()
    {
        var p = PromptedClassifier.Softmax([-1000.0, -1000.0 + Math.Log(3)]);
        Assert.Equal(0.25, p[0], 12);
        Assert.Equal(0.75, p[1], 12);
    }

    [Fact]
    public void Chat_models_get_rendered_messages_and_trimmed_continuations()
    {
        IReadOnlyList<string>? seen = null;
        var c = new PromptedClassifier(Template, (prompt, conts) => { seen = conts; return [0.0, 0.0]; })
            .ForChatModel(msgs => string.Join("|", msgs.Select(m => $"{m.Role}:{m.Content}")));
        Assert.Equal("system:Sentiment?|user:Review: ok", c.PromptFor("ok"));
        c.Classify("ok");
        Assert.Equal(["positive", "negative"], seen!);
    }

    [Fact]
    public void Few_shot_prompts_contain_the_selected_examples()
    {
        LabeledExample[] pool = [new("good plot", "positive"), new("bad acting", "negative")];
        var c = new PromptedClassifier(Template, Scorer).Shots(FewShot.Fixed(pool), 2);
        var prompt = c.PromptFor("fine");
        Assert.Contains("Review: good plot\nSentiment: positive", prompt);
        Assert.EndsWith("Review: fine\nSentiment:", prompt);
    }

    [Fact]
    public void Variants_are_evaluated_side_by_side_and_feed_the_comparison()
    {
        var test = new[] { "good", "bad", "good stuff", "awful", "so good", "meh" }
            .Select(t => new LabeledExample(t, t.Contains("good") ? "positive" : "negative")).ToArray();
        LabeledExample[] pool = [new("good plot", "positive"), new("bad acting", "negative"), new("dull", "negative")];
        var result = new PromptVariants()
            .Add("zero-shot", Template)
            .Add("2 random shots", Template, FewShot.Random(pool, seed: 1), 2)
            .Add("inverted labels", Template.WithLabels(new LabelVerbalizer().Map("positive", " negative").Map("negative", " positive")))
            .Evaluate(test, Scorer, t => t.Split(' ').Length);
        Assert.Equal(3, result.Results.Count);
        Assert.Equal(1.0, result.Results[0].Report.Accuracy.Estimate);
        Assert.Equal(0.0, result.Results[2].Report.Accuracy.Estimate); // the stand-in model reads the verbalisation
        Assert.True(result.Results[1].Report.PromptTokens.Mean > result.Results[0].Report.PromptTokens.Mean);
        Assert.Equal("zero-shot", result.Best.Variant.Name); // ties on accuracy go to fewer tokens
        Assert.Equal(3, result.Rows().Count);

        var report = new PromptVsFineTune(test).AddRange(result.ToApproaches()).Run();
        Assert.Equal(3, report.Approaches.Count);
        Assert.Equal("zero-shot", report.Best.Name);
    }

    [Fact]
    public void Variant_with_a_label_it_cannot_produce_is_rejected()
    {
        var test = new[] { new LabeledExample("x", "neutral") };
        var e = Assert.Throws<DataFormatException>(() => new PromptVariants().Add("v", Template).Evaluate(test, Scorer));
        Assert.Contains("neutral", e.Message);
    }
}
