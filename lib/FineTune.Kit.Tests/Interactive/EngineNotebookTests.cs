using System.Text.RegularExpressions;
using FineTune.Kit.Notebooks.Execution;
using FineTune.Kit.Notebooks.Html;
using FineTune.Kit.Tests.Browser;
using FineTune.Kit.Notebooks.Model;
using FineTune.Kit.Notebooks.Parameters;

namespace FineTune.Kit.Tests.Interactive;

/// <summary>
/// The shipped notebooks in the engine users run them in (.NET Interactive through dotnet-repl), loading the kit as
/// packages from artifacts/packages through notebooks/NuGet.config, exactly as a user's first cell does. The sizes come
/// from a copy whose parameters are overridden the way our runner does it (an injected cell after the parameters cell),
/// since dotnet-repl has no parameters of its own. The copy runs from notebooks/, so relative paths resolve as in VS Code.
/// What the engine produced is then exported as a page (as `ftk notebook run --html` does) and opened offline in Chromium.
/// </summary>
public class EngineNotebookTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private static readonly string Folder = RepoFiles.PathOf("notebooks");

    public static TheoryData<string> Names() => new(Notebooks.ShippedNotebooksTests.TestSizes.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Shipped_notebook_runs_in_dotnet_repl_without_errors_and_with_offline_charts(string name)
    {
        using var temp = new TempFolder();
        var notebook = Notebook.Load(Path.Combine(Folder, name));
        var sizes = Notebooks.ShippedNotebooksTests.TestSizes[name].ToList();
        if (notebook.Cells.Any(c => c.Tags.Contains("parameters") && c.Source.Contains("string outputDir")))
            sizes.Add(new("outputDir", temp.File("out")));
        ParameterInjector.Inject(notebook, sizes);
        var copy = temp.File(name);
        notebook.Save(copy);

        var run = DotnetRepl.Run(copy, Folder, temp.File("executed.ipynb"), TimeSpan.FromMinutes(10));

        Assert.True(run.ExitCode == 0 && run.Errors.Count == 0 && run.Notebook is not null, run.Describe());
        var charts = run.Html.Count(h => h.Contains("Plotly.newPlot", StringComparison.Ordinal));
        Assert.True(charts >= 2, $"{name} showed {charts} chart(s) in the engine\n{run.Describe()}");
        // plotly.js travels once, inside the notebook: nothing is fetched from a CDN
        Assert.Equal(1, run.Html.Sum(h => Regex.Matches(h, @"plotly\.js v\d").Count));
        var all = run.Notebook!.ToJsonString();
        Assert.DoesNotContain("cdn.plot.ly", all);
        Assert.DoesNotContain("cdnjs", all);

        // the engine's outputs, exported as one page, draw every chart in a browser with the network cut off
        if (!ChromiumFixture.Installed && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            return;
        var page = temp.File("executed.html");
        NotebookHtml.Save(Notebook.Load(temp.File("executed.ipynb")), page);
        (await ReportPage.Open(chromium.Browser, page)).AssertClean($"{name} executed by the engine, exported as HTML", minCharts: 2);
    }

    [Fact]
    public void The_quickstart_runs_in_jupyter_with_the_dotnet_interactive_kernel()
    {
        const string name = "00-quickstart.ipynb";
        using var temp = new TempFolder();
        var notebook = Notebook.Load(Path.Combine(Folder, name));
        ParameterInjector.Inject(notebook, [.. Notebooks.ShippedNotebooksTests.TestSizes[name], new("outputDir", temp.File("out"))]);
        // nbconvert runs a notebook in its own folder: the copy sits beside the original, under a name git ignores
        var copy = Path.Combine(Folder, $".ftk-test-{Guid.NewGuid():N}.ipynb");
        notebook.Save(copy);
        try
        {
            var run = Jupyter.Execute(copy, temp.File("executed.ipynb"), temp.File("jupyter"), TimeSpan.FromMinutes(10));
            Assert.True(run.ExitCode == 0 && run.Errors.Count == 0 && run.Notebook is not null, run.Describe());
            var charts = run.Html.Where(h => h.Contains("Plotly.newPlot", StringComparison.Ordinal)).ToList();
            Assert.True(charts.Count >= 2, $"{charts.Count} chart(s) in Jupyter\n{run.Describe()}");
            Assert.Equal(1, charts.Sum(h => Regex.Matches(h, @"plotly\.js v\d").Count));
            // (the kernel's own start-up output for Jupyter front ends loads require.js from a CDN; the charts do not)
            Assert.All(charts, h =>
            {
                Assert.DoesNotContain("cdn.plot.ly", h);
                Assert.DoesNotContain("cdnjs", h);
            });
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Fact]
    public void A_failing_cell_and_an_unknown_package_are_reported_with_their_cell_number_by_both_engines()
    {
        using var temp = new TempFolder();
        var failing = Notebook.Create()
            .Code("#r \"nuget: FineTune.Kit.Interactive, 0.2.0\"\nusing System.IO;")
            .Code("throw new InvalidOperationException(\"boom in the second cell\");")
            .Code("1 + 1");
        var unknown = Notebook.Create()
            .Code("#r \"nuget: Ftk.Tests.NoSuchPackage, 1.0.0\"")
            .Code("1 + 1");
        failing.Save(temp.File("failing.ipynb"));
        unknown.Save(temp.File("unknown.ipynb"));

        var engineFailing = DotnetRepl.Run(temp.File("failing.ipynb"), Folder, temp.File("failing.out.ipynb"), TimeSpan.FromMinutes(5));
        Assert.NotEqual(0, engineFailing.ExitCode);
        var error = Assert.Single(engineFailing.Errors);
        Assert.True(error.Cell == 2 && error.Value.Contains("boom in the second cell"), engineFailing.Describe());

        var engineUnknown = DotnetRepl.Run(temp.File("unknown.ipynb"), Folder, temp.File("unknown.out.ipynb"), TimeSpan.FromMinutes(5));
        Assert.NotEqual(0, engineUnknown.ExitCode);
        Assert.True(engineUnknown.Errors.Count > 0 && engineUnknown.Errors[0].Cell == 1, engineUnknown.Describe());

        var runner = new NotebookRunner().LogTo(TextWriter.Null);
        var oursFailing = runner.Run(Notebook.Load(temp.File("failing.ipynb")));
        var ourError = Assert.Single(oursFailing.Errors);
        Assert.Equal(2, ourError.CellNumber);
        Assert.Contains("boom in the second cell", ourError.Error);
        var oursUnknown = runner.Run(Notebook.Load(temp.File("unknown.ipynb")));
        Assert.Equal(1, Assert.Single(oursUnknown.Errors).CellNumber);
        Assert.Contains("cell 1", oursUnknown.Errors.Single().Error);
    }
}
