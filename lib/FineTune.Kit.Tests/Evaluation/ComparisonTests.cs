using System.Text.Json;
using FineTune.Kit.Evaluation;
using FineTune.Kit.Evaluation.Comparison;
using FineTune.Kit.Data;
using FineTune.Kit.Prompting;

namespace FineTune.Kit.Tests.Evaluation;

public class ComparisonTests
{
    private static readonly LabeledExample[] Test =
        Enumerable.Range(0, 200).Select(i => new LabeledExample($"text {i}", i % 2 == 0 ? "pos" : "neg")).ToArray();

    /// <summary>Outputs that are right except where <paramref name="wrong"/> says so, with 0.8 confidence.</summary>
    private static ClassifierOutput[] Outputs(Func<int, bool> wrong, int promptTokens, double latencyMs = double.NaN) =>
        Test.Select((e, i) =>
        {
            var label = wrong(i) ? (e.Label == "pos" ? "neg" : "pos") : e.Label;
            var other = label == "pos" ? "neg" : "pos";
            return new ClassifierOutput(label, new Dictionary<string, double> { [label] = 0.8, [other] = 0.2 }, promptTokens,
                double.IsNaN(latencyMs) ? null : TimeSpan.FromMilliseconds(latencyMs));
        }).ToArray();

    private static readonly CostModel PerToken = new() { PricePer1kPromptTokens = 0.5 };

    [Fact]
    public void Significant_difference_names_the_winner()
    {
        var report = new PromptVsFineTune(Test)
            .Add(Approach.Named("few-shot").WithPredictions(Outputs(i => i % 10 < 4, 900)))      // 120 / 200
            .Add(Approach.Named("LoRA").WithPredictions(Outputs(i => i % 10 == 0, 40))             // 180 / 200
                .WithTrainableParameters(811_008).TrainedFor(TimeSpan.FromMinutes(12)))
            .CostModel(PerToken)
            .Run();
        Assert.Equal("LoRA", report.Best.Name);
        Assert.True(report.BestVsRunnerUp!.IsSignificant);
        Assert.Equal(0.3, report.BestVsRunnerUp.Difference.Estimate, 12);
        Assert.StartsWith("LoRA wins", report.Recommendation);
        Assert.Contains("excludes zero", report.Recommendation);
        Assert.DoesNotContain("inside the confidence interval", report.Recommendation);
    }

    [Fact]
    public void Difference_inside_the_interval_is_reported_as_such_and_the_cheap_approach_is_recommended()
    {
        // A: 10 errors; B: 15 different errors. A leads by 2.5 points, but the pairs disagree both ways
        var report = new PromptVsFineTune(Test)
            .Add(Approach.Named("A").WithPredictions(Outputs(i => i % 20 == 0, 1000)))
            .Add(Approach.Named("B").WithPredictions(Outputs(i => i % 20 == 1 || i % 40 == 2, 50)))
            .CostModel(PerToken)
            .Run();
        Assert.Equal("A", report.Best.Name);
        Assert.False(report.BestVsRunnerUp!.IsSignificant);
        Assert.True(report.BestVsRunnerUp.Difference.Contains(0));
        Assert.Contains("inside the confidence interval", report.Recommendation);
        Assert.Equal("B", report.CheapestAdequate!.Other.Name);
        Assert.Contains("B costs $25.00 per 1,000 requests, so it is the cheapest adequate approach", report.Recommendation.Replace(" with no training", ""));
        // costs: 1000 tokens x 0.5 per 1k tokens x 1000 requests = 500; 50 tokens -> 25
        Assert.Equal(500, report.Approaches[0].CostPer1k, 9);
        Assert.Equal(25, report.Approaches[1].CostPer1k, 9);
    }

    [Fact]
    public void Cheapest_adequate_approach_may_be_other_than_the_runner_up()
    {
        var report = new PromptVsFineTune(Test)
            .Add(Approach.Named("A").WithPredictions(Outputs(i => i % 20 == 0, 1000)))                  // 190 right, $500
            .Add(Approach.Named("B").WithPredictions(Outputs(i => i % 20 == 1 || i % 40 == 2, 400)))     // 185 right, $200
            .Add(Approach.Named("C").WithPredictions(Outputs(i => i % 20 == 3 || i % 40 == 4 || i % 100 == 5, 20))) // 183 right, $10
            .Add(Approach.Named("D").WithPredictions(Outputs(i => i % 3 == 0, 1)))                       // far worse, $0.5
            .CostModel(PerToken)
            .Run();
        Assert.Equal("B", report.BestVsRunnerUp!.Other.Name);
        Assert.Equal("C", report.CheapestAdequate!.Other.Name);
        Assert.Contains("The cheapest adequate approach is C", report.Recommendation);
        Assert.Equal(["D", "C", "B", "A"], report.ParetoFront.Select(a => a.Name));
    }

    [Fact]
    public void Best_and_cheapest_leaves_no_trade_off()
    {
        var report = new PromptVsFineTune(Test)
            .Add(Approach.Named("A").WithPredictions(Outputs(i => i % 20 == 0, 10)))
            .Add(Approach.Named("B").WithPredictions(Outputs(i => i % 3 == 0, 500)))
            .CostModel(PerToken)
            .Run();
        Assert.StartsWith("A wins", report.Recommendation);
        Assert.Contains("no trade-off", report.Recommendation);
        Assert.Equal(["A"], report.ParetoFront.Select(a => a.Name));
    }

    [Fact]
    public void Recommendation_states_the_configured_confidence_level()
    {
        var report = new PromptVsFineTune(Test)
            .Add(Approach.Named("A").WithPredictions(Outputs(i => i % 20 == 0, 10)))
            .Add(Approach.Named("B").WithPredictions(Outputs(i => i % 20 == 1, 10)))
            .Bootstrap(new Bootstrap(Resamples: 500, Level: 0.9, Seed: 1))
            .Run();
        Assert.Contains("90% CI", report.Recommendation);
        Assert.DoesNotContain("95%", report.Recommendation);
    }

    [Fact]
    public void Same_inputs_and_seed_give_the_same_report()
    {
        PromptVsFineTune Build() => new PromptVsFineTune(Test)
            .Add(Approach.Named("A").WithPredictions(Outputs(i => i % 7 == 0, 10)))
            .Add(Approach.Named("B").WithPredictions(Outputs(i => i % 5 == 0, 10)));
        Assert.Equal(Build().Run().ToJson(), Build().Run().ToJson());
    }

    [Fact]
    public void Json_has_exactly_the_documented_keys()
    {
        var report = new PromptVsFineTune(Test)
            .Add(Approach.Named("zero-shot").WithPredictions(Outputs(i => i % 4 == 0, 120, latencyMs: 35)))
            .Add(Approach.Named("LoRA").WithPredictions(Outputs(i => i % 9 == 0, 30)).WithTrainableParameters(1000).TrainedFor(TimeSpan.FromSeconds(90)))
            .Run();
        using var doc = JsonDocument.Parse(report.ToJson());
        var root = doc.RootElement;
        Assert.Equal(["approaches", "recommendation"], root.EnumerateObject().Select(p => p.Name));
        var first = root.GetProperty("approaches")[0];
        Assert.Equal(["name", "accuracy", "accuracy_ci", "macro_f1", "trainable_params", "train_seconds", "latency_ms", "prompt_tokens", "cost_per_1k"],
            first.EnumerateObject().Select(p => p.Name));
        Assert.Equal(2, first.GetProperty("accuracy_ci").GetArrayLength());
        Assert.Equal(0.75, first.GetProperty("accuracy").GetDouble(), 12);
        Assert.Equal(35, first.GetProperty("latency_ms").GetDouble(), 9);
        var second = root.GetProperty("approaches")[1];
        Assert.Equal(JsonValueKind.Null, second.GetProperty("latency_ms").ValueKind); // precomputed without timing
        Assert.Equal(1000, second.GetProperty("trainable_params").GetInt64());
        Assert.Equal(90, second.GetProperty("train_seconds").GetDouble(), 9);
        Assert.Equal(report.Recommendation, root.GetProperty("recommendation").GetString());
    }

    [Fact]
    public void Pareto_front_of_a_constructed_set()
    {
        (double, double)[] points =
        [
            (0.90, 10), // A: front (most accurate)
            (0.85, 2),  // B: front
            (0.80, 5),  // C: dominated by B
            (0.90, 12), // D: dominated by A (same accuracy, dearer)
            (0.70, 1),  // E: front (cheapest)
            (0.85, 2),  // F: identical to B, kept
            (0.60, 3),  // G: dominated by B and E
        ];
        Assert.Equal([4, 1, 5, 0], ParetoFront.Of(points));
    }

    [Fact]
    public void Cost_model_matches_hand_computation()
    {
        var cost = new CostModel
        {
            PricePer1kPromptTokens = 0.001, PricePerComputeSecond = 0.0002, TrainingPricePerSecond = 0.01, AmortizeOverRequests = 100_000,
        };
        // per request: 0.2 * 0.001 + 0.05 * 0.0002 + 3600 * 0.01 / 100000 = 0.0002 + 0.00001 + 0.00036
        Assert.Equal(1000 * 0.00057, cost.CostPer1kRequests(200, 50, 3600), 12);
    }

    private sealed class KeywordClassifier : ITextClassifier
    {
        public const int DelayMs = 3;

        public ClassifierOutput Classify(string input)
        {
            Thread.Sleep(DelayMs);   // a known lower bound for the measured latency
            var n = int.Parse(input.Split(' ')[1]);
            return ClassifierOutput.LabelOnly(n % 2 == 0 || n % 3 == 0 ? "pos" : "neg", promptTokens: 7);
        }
    }

    [Fact]
    public void Live_classifiers_are_timed_and_rendered_to_html_and_charts()
    {
        var report = new PromptVsFineTune(Test)
            .Add(Approach.Named("keywords").Using(new KeywordClassifier()))
            .Add(Approach.Named("LoRA").WithPredictions(Outputs(i => i % 9 == 0, 30, latencyMs: 4)).WithTrainableParameters(5000))
            .Run();
        var keywords = report.Approaches[0];
        Assert.True(keywords.LatencyMs >= KeywordClassifier.DelayMs, $"latency {keywords.LatencyMs} ms, but every call sleeps {KeywordClassifier.DelayMs} ms");
        Assert.Equal(7, keywords.PromptTokens);
        Assert.Null(keywords.Classification.Calibration);
        // metrics, cost scatter, confusion matrices, and a reliability diagram for the one approach with probabilities
        Assert.Equal(4, report.Charts().Count);
        var reliability = FineTune.Kit.Plots.HtmlPage.ChartFragment(report.NamedCharts.Reliability()!);
        Assert.Contains("LoRA (ECE", reliability);
        Assert.DoesNotContain("keywords (ECE", reliability);
        var html = report.ToHtml();
        Assert.Contains("Recommendation", html);
        Assert.Contains("Pareto front", html);
        Assert.Contains("keywords", html);
        using var dir = new TempFolder();
        report.Save(dir["cmp"]);
        Assert.Contains("plotly", File.ReadAllText(Path.Combine(dir["cmp"], "report.html")));
        Assert.Contains("LoRA", report.ToString());
    }

    [Fact]
    public void Wrong_number_of_predictions_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new PromptVsFineTune(Test).Add(Approach.Named("x").WithPredictions(Outputs(_ => false, 1).Take(5).ToArray())));
        Assert.Contains("5 predictions for 200", e.Message);
    }
}
