using System.Text.Json.Nodes;
using FineTune.Kit.Demo;
using FineTune.Kit.Tests.Build;
using FineTune.Kit.Tests.Models;

namespace FineTune.Kit.Tests.Browser;

/// <summary>The demo's report.html, from a run at reduced sizes, in Chromium.</summary>
public class DemoReportInBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [BrowserFact]
    public async Task Demo_report_loads_offline_draws_every_chart_and_fits_the_window()
    {
        var output = TempFolder.Fresh();
        var result = LifeCycleDemo.Run(new DemoOptions
        {
            DataDirectory = Path.Combine(RepoFiles.Root, "data", "sample"), OutputDirectory = output,
            TestExamples = 24, Epochs = 1, MaxTrainExamples = 64, Explanations = 1, Replies = 1, ReplyExamples = 8, HeldOutReplies = 4,
        });
        // a local model is not free: every approach has a cost from its measured latency
        var costs = JsonNode.Parse(File.ReadAllText(result.MetricsPath))!["comparison"]!.AsArray().Select(a => (double)a!["cost_per_1k"]!).ToArray();
        Assert.All(costs, c => Assert.True(c > 0, $"cost per 1,000 requests {c}"));
        var findings = await ReportPage.Open(chromium.Browser, result.ReportPath);
        findings.AssertClean("demo report.html", minCharts: 8);
        // and on a laptop-sized window
        (await ReportPage.Open(chromium.Browser, result.ReportPath, width: 1024, height: 768)).AssertClean("demo report.html at 1024 px", minCharts: 8);
        Directory.Delete(output, recursive: true);
    }
}
