using System.Text.Json;
using FineTune.Kit.Prompting;
using FineTune.Kit.Data;
using FineTune.Kit.Evaluation;
using FineTune.Kit.Evaluation.Comparison;
using FineTune.Kit.Explain;
using FineTune.Kit.Plots;
using FineTune.Kit.Training;
using FineTune.Kit.Tests.Data;

namespace FineTune.Kit.Tests.Browser;

/// <summary>
/// Every kit report page, opened offline in Chromium: no request leaves the machine, every Plotly chart draws an SVG,
/// the console stays free of errors, nothing is wider than the window, and tick labels stay on their own chart.
/// </summary>
public class ReportPagesInBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    // long intent names, as real label sets have: side by side they ran into the neighbouring matrix
    private static readonly string[] Labels = ["shipping_delay_complaint", "subscription_billing_question", "thermostat_hardware_fault", "router_setup_help"];

    private static readonly LabeledExample[] Test =
        Enumerable.Range(0, 80).Select(i => new LabeledExample($"ticket {i}", Labels[i % Labels.Length])).ToArray();

    private static ClassifierOutput[] Outputs(int wrongEvery, double latencyMs) =>
        Test.Select((e, i) => ClassifierOutput.LabelOnly(i % wrongEvery == 0 ? Labels[(i + 1) % Labels.Length] : e.Label,
            promptTokens: 40, latency: TimeSpan.FromMilliseconds(latencyMs))).ToArray();

    [BrowserFact]
    public async Task Comparison_report_with_four_approaches_fits_the_page_and_draws_every_chart()
    {
        using var dir = new TempFolder();
        var report = new PromptVsFineTune(Test).CostModel(CostModel.ForHardware(0.5, 10_000))
            .Add(Approach.Named("zero-shot (pre-training format)").WithPredictions(Outputs(2, 24)))
            .Add(Approach.Named("zero-shot, instruction prompt").WithPredictions(Outputs(3, 19)))
            .Add(Approach.Named("few-shot k=4 (TF-IDF similar)").WithPredictions(Outputs(4, 42)))
            .Add(Approach.Named("LoRA r=8").WithPredictions(Outputs(25, 21)).WithTrainableParameters(110_592).TrainedFor(TimeSpan.FromMinutes(4)))
            .Run();
        report.Save(dir["comparison"]);
        var path = Path.Combine(dir["comparison"], ReportFolder.HtmlFile);
        (await ReportPage.Open(chromium.Browser, path)).AssertClean("comparison report", minCharts: 3);
    }

    [BrowserFact]
    public async Task Curation_report_draws_its_charts_offline()
    {
        using var dir = new TempFolder();
        var rows = Enumerable.Range(0, 60).Select(i => $$"""{"text": "ticket {{i}} about {{Labels[i % 4]}} {{new string('x', 10 + i)}}", "label": "{{Labels[i % 4]}}"}""")
            .Append($$"""{"text": "{{new string('y', 15_000)}}", "label": "router_setup_help"}""")
            .Append("""{"text": "ticket 3 about router_setup_help, again!", "label": "router_setup_help"}""");
        var data = Dataset.FromJsonl(dir.File("raw.jsonl", string.Join("\n", rows)));
        var result = Kit.Data.Curation.CurationConfig.Default().Pipeline.Run(data);
        result.Report.Save(dir["curation"]);
        var path = Path.Combine(dir["curation"], ReportFolder.HtmlFile);
        (await ReportPage.Open(chromium.Browser, path)).AssertClean("curation report", minCharts: 3);
    }

    [BrowserFact]
    public async Task Training_history_page_draws_its_charts_offline()
    {
        using var dir = new TempFolder();
        var steps = Enumerable.Range(1, 60).Select(s => new StepMetrics
        {
            Step = s, Epoch = s / 20.0, Loss = 3 * Math.Exp(-s / 20.0) + 0.2, ValLoss = s % 10 == 0 ? 3 * Math.Exp(-s / 25.0) + 0.3 : null,
            Lr = 1e-3 * Math.Min(1, s / 10.0), GradNorm = 1 + Math.Sin(s), TokensPerSecond = 900 + s,
        });
        var history = TrainingHistory.FromJson(JsonSerializer.Serialize(steps));
        var path = dir.File("training.html", history.ToHtml());
        (await ReportPage.Open(chromium.Browser, path)).AssertClean("training history", minCharts: 2);
    }

    [BrowserFact]
    public async Task Attribution_heatmap_and_bars_load_offline()
    {
        using var dir = new TempFolder();
        var words = "my parcel never arrived and the tracking page has been empty for nine days now".Split(' ');
        var a = new Attribution("kernel_shap", words, words.Select((w, i) => Math.Sin(i) * 0.8).ToArray(), -4.2, -4.2 + words.Select((w, i) => Math.Sin(i) * 0.8).Sum())
        {
            Target = " shipping delay",
        };
        var fragment = dir.File("attribution-fragment.html", TokenHeatmap.Html(a));
        (await ReportPage.Open(chromium.Browser, fragment)).AssertClean("attribution heatmap fragment", minCharts: 0);
        a.Save(dir["attribution"]);
        (await ReportPage.Open(chromium.Browser, Path.Combine(dir["attribution"], "report.html"))).AssertClean("attribution page", minCharts: 1);
    }
}
