using System.Text.Json.Nodes;
using FineTune.Kit.Prompting;
using FineTune.Kit.Data;
using FineTune.Kit.Data.Curation;
using FineTune.Kit.Evaluation;
using FineTune.Kit.Evaluation.Comparison;
using FineTune.Kit.Tests.Cli;
using FineTune.Kit.Tests.Data;

namespace FineTune.Kit.Tests.Evaluation;

/// <summary>Charts and figures of the reports that a person can read: histogram bins, matrix layout, a cost that is not 0.</summary>
public class ReadableReportTests
{
    private static readonly LabeledExample[] Test =
        Enumerable.Range(0, 40).Select(i => new LabeledExample($"text {i}", i % 2 == 0 ? "pos" : "neg")).ToArray();

    private static ClassifierOutput[] Outputs(int wrongEvery, double latencyMs) =>
        Test.Select((e, i) => ClassifierOutput.LabelOnly(i % wrongEvery == 0 ? (e.Label == "pos" ? "neg" : "pos") : e.Label,
            promptTokens: 10, latency: TimeSpan.FromMilliseconds(latencyMs))).ToArray();

    [Fact]
    public void Length_histogram_bins_reach_the_99th_percentile_and_one_open_bin_holds_the_outlier()
    {
        // 99 texts of 20..118 characters and one of 20,000: linear bins to the maximum put all 99 in the first bar
        var rows = Enumerable.Range(20, 99).Select(n => new string('a', n)).Append(new string('b', 20_000))
            .Select((t, i) => $$"""{"text": "{{t}}", "label": "{{(i % 2 == 0 ? "x" : "y")}}"}""");
        using var dir = new TempFolder();
        var data = Dataset.FromJsonl(dir.File("lengths.jsonl", string.Join("\n", rows)));
        var report = data.Curate(c => c.DropEmpty()).Report;
        var h = report.Lengths;
        // nearest-rank 99th percentile of the 100 lengths: the 99th smallest, 118; bins of ceil(119 / 20) = 6 characters
        Assert.True(h.LastBinOpen);
        Assert.Equal(22, h.Edges.Length);
        Assert.Equal(120, h.Edges[^2]);
        Assert.Equal(20_000, h.Edges[^1]);
        Assert.Equal(1, h.Before[^1]);
        Assert.Equal(99, h.Before[..^1].Sum());
        Assert.Equal(6, h.Before[..^1].Max());                 // 20..118 spread over the bins: at most 6 lengths per bin
        var json = JsonNode.Parse(report.ToJson())!["length_histogram"]!;
        Assert.True((bool)json["last_bin_open"]!);
        Assert.Equal(0.99, (double)json["clip_quantile"]!);
        var html = report.ToHtml();
        Assert.Contains("99th percentile", html);
        Assert.Contains("≥120 (to 20000)", html);
    }

    [Fact]
    public void Confusion_matrices_are_stacked_one_per_row_and_fit_the_page()
    {
        var report = new PromptVsFineTune(Test)
            .Add(Approach.Named("a").WithPredictions(Outputs(3, 10)))
            .Add(Approach.Named("b").WithPredictions(Outputs(5, 10)))
            .Add(Approach.Named("c").WithPredictions(Outputs(7, 10)))
            .Add(Approach.Named("d").WithPredictions(Outputs(9, 10)))
            .Run();
        var json = JsonNode.Parse(Plotly.NET.GenericChart.toFigureJson(report.NamedCharts.ConfusionMatrices()))!;
        var layout = json["layout"]!;
        Assert.Equal(4, (int)layout["grid"]!["rows"]!);
        Assert.Equal(1, (int)layout["grid"]!["columns"]!);
        Assert.True((int)layout["width"]! <= 800, $"width {layout["width"]}");
        Assert.Equal(4, layout["annotations"]!.AsArray().Count);
    }

    [Fact]
    public void Cost_per_1000_requests_prices_latency_and_amortised_training_at_the_hourly_rate()
    {
        // $0.36 per hour = $0.0001 per second. A request of 50 ms: $0.000005, so $0.005 per 1,000.
        // One hour of training ($0.36) spread over 1,000 requests: $0.00036 per request, $0.36 per 1,000.
        var cost = CostModel.ForHardware(pricePerHour: 0.36, amortizeOverRequests: 1_000);
        Assert.Equal(0.0001, cost.PricePerComputeSecond, 15);
        Assert.Equal(0.36, cost.HardwarePricePerHour, 12);
        var report = new PromptVsFineTune(Test).CostModel(cost)
            .Add(Approach.Named("prompted").WithPredictions(Outputs(3, 50)))
            .Add(Approach.Named("tuned").WithPredictions(Outputs(9, 50)).TrainedFor(TimeSpan.FromHours(1)))
            .Run();
        Assert.Equal(0.005, report.Approaches[0].CostPer1k, 12);
        Assert.Equal(0.365, report.Approaches[1].CostPer1k, 12);
        Assert.Equal(["prompted", "tuned"], report.ParetoFront.Select(a => a.Name));
        var html = report.ToHtml();
        Assert.Equal("measured latency × $0.36 per hour + training time × $0.36 per hour spread over 1,000 requests", cost.Describe());
        Assert.Contains(System.Net.WebUtility.HtmlEncode(cost.Describe()), html);
        Assert.Contains("$0.365", html);

        Assert.Throws<ArgumentException>(() => CostModel.ForHardware(-1));
        Assert.Throws<ArgumentException>(() => CostModel.ForHardware(1, 0));
        Assert.Throws<ArgumentException>(() => new PromptVsFineTune(Test).CostModel(new CostModel { PricePerComputeSecond = double.NaN }));
    }

    [Fact]
    public void Ftk_compare_prices_latency_per_hour_by_default_and_on_request()
    {
        using var dir = new TempFolder();
        var test = dir.File("test.jsonl", string.Join("\n", Test.Select(e => $$"""{"text": "{{e.Text}}", "label": "{{e.Label}}"}""")) + "\n");
        var prompted = dir["prompted.jsonl"];
        var tuned = dir["tuned.jsonl"];
        EvaluationFiles.WritePredictions(prompted, Outputs(3, 50));
        EvaluationFiles.WritePredictions(tuned, Outputs(9, 50));
        string[] Args(params string[] more) =>
            ["compare", "--test", test, "--approach", $"prompted={prompted}", "--approach", $"tuned={tuned};train_seconds=3600", "--json", .. more];

        var (code, stdout, err) = CliRunner.Run(Args("--price-per-hour", "0.36", "--amortize-over", "1000"));
        Assert.True(code == 0, err);
        var costs = JsonNode.Parse(stdout)!["approaches"]!.AsArray().Select(a => (double)a!["cost_per_1k"]!).ToArray();
        Assert.Equal(0.005, costs[0], 12);
        Assert.Equal(0.365, costs[1], 12);

        // defaults: $0.10 per hour over 100,000 requests: 50 ms → 1000 · 0.05 · 0.1 / 3600; training 3600 s → 1000 · 0.1 / 100,000
        (code, stdout, err) = CliRunner.Run(Args());
        Assert.True(code == 0, err);
        costs = JsonNode.Parse(stdout)!["approaches"]!.AsArray().Select(a => (double)a!["cost_per_1k"]!).ToArray();
        Assert.Equal(1000 * 0.05 * 0.1 / 3600, costs[0], 12);
        Assert.Equal(1000 * 0.05 * 0.1 / 3600 + 1000 * 0.1 / 100_000, costs[1], 12);

        (code, _, err) = CliRunner.Run(Args("--price-per-hour", "1", "--price-per-second", "0.01"));
        Assert.Equal(1, code);
        Assert.Contains("--price-per-hour or --price-per-second, not both", err);
        (code, _, err) = CliRunner.Run(Args("--price-per-hour", "-2"));
        Assert.Equal(1, code);
        Assert.Contains("--price-per-hour must be a non-negative number", err);
    }

    [Fact]
    public void Ftk_demo_refuses_a_bad_price_before_it_starts()
    {
        var (code, _, err) = CliRunner.Run("demo", "--price-per-hour", "-1", "--out", Path.Combine(Path.GetTempPath(), "ftk-never-" + Guid.NewGuid().ToString("N")));
        Assert.Equal(1, code);
        Assert.Contains("hardware price per hour must be a non-negative number", err);
        Assert.Single(err.Trim().Split('\n'));
    }
}
