using System.Text.Json.Nodes;
using FineTune.Kit.Notebooks.Execution;
using FineTune.Kit.Notebooks.Model;

namespace FineTune.Kit.Tests.Notebooks;

/// <summary>
/// The notebooks in notebooks/ are part of the product: they must open in VS Code Polyglot Notebooks (layout and
/// metadata), be committed clean (no outputs), and run headless from top to bottom without a failing cell.
/// </summary>
public class ShippedNotebooksTests
{
    private static readonly string Folder = RepoFiles.PathOf("notebooks");

    /// <summary>The shipped notebooks with the sizes that keep a test run short (overriding the `parameters` cell).</summary>
    internal static readonly Dictionary<string, Dictionary<string, string>> TestSizes = new()
    {
        ["00-quickstart.ipynb"] = new() { ["trainExamples"] = "48", ["testExamples"] = "8", ["steps"] = "4", ["validationExamples"] = "8" },
        ["01-data-curation.ipynb"] = new(),
        ["02-prompt-engineering.ipynb"] = new() { ["trainExamples"] = "48", ["testExamples"] = "8", ["shots"] = "1", ["maxShots"] = "1" },
        ["03-lora-fine-tuning.ipynb"] = new() { ["trainExamples"] = "48", ["testExamples"] = "8", ["steps"] = "4", ["validationExamples"] = "8" },
        ["04-evaluation-and-comparison.ipynb"] = new()
        {
            ["trainExamples"] = "48", ["testExamples"] = "12", ["shots"] = "1", ["steps"] = "4", ["validationExamples"] = "8", ["bootstrapResamples"] = "200",
        },
        ["05-interpretability.ipynb"] = new()
        {
            ["trainExamples"] = "48", ["testExamples"] = "12", ["steps"] = "4", ["validationExamples"] = "8",
            ["shapSamples"] = "32", ["integrationSteps"] = "8", ["explainedExamples"] = "3",
        },
        ["06-deploy-merge-generate.ipynb"] = new() { ["trainExamples"] = "48", ["testExamples"] = "6", ["steps"] = "4", ["validationExamples"] = "8" },
        ["07-deploy-and-monitor.ipynb"] = new() { ["trainExamples"] = "48", ["steps"] = "4", ["validationExamples"] = "8", ["trafficRequests"] = "60" },
        ["08-preference-tuning.ipynb"] = new()
        {
            ["testTickets"] = "3", ["sftReplies"] = "4", ["heldOutPairs"] = "4", ["maxTrainPairs"] = "4", ["grpoSteps"] = "1", ["maxNewTokens"] = "6",
        },
        ["09-responsible-fine-tuning.ipynb"] = new()
        {
            ["trainExamples"] = "32", ["epochs"] = "1", ["auditExamples"] = "48", ["resamples"] = "50", ["extractionExamples"] = "6",
        },
    };

    public static TheoryData<string> Names() => new(TestSizes.Keys);

    [Fact]
    public void Every_shipped_notebook_is_covered_here_and_the_set_is_complete()
    {
        var shipped = Directory.GetFiles(Folder, "*.ipynb").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(TestSizes.Keys.Order(StringComparer.Ordinal), shipped);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Notebook_is_committed_without_outputs_in_the_polyglot_layout(string name)
    {
        var path = Path.Combine(Folder, name);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var metadata = json["metadata"]!;
        Assert.Equal(".net-csharp", (string?)metadata["kernelspec"]?["name"]);
        Assert.Equal("csharp", (string?)metadata["polyglot_notebook"]?["kernelInfo"]?["defaultKernelName"]);
        Assert.Equal(4, (int)json["nbformat"]!);

        var notebook = Notebook.Load(path);
        var code = notebook.Cells.Where(c => c.IsCode).ToList();
        Assert.All(code, c =>
        {
            Assert.Empty(c.Outputs);
            Assert.Null(c.ExecutionCount);
            Assert.Equal("csharp", c.KernelName);
        });
        // the first cell loads the kit as a package and holds nothing but #i/#r lines and usings
        var version = typeof(KitException).Assembly.GetName().Version!.ToString(3);
        Assert.Contains($"#r \"nuget: FineTune.Kit.Interactive, {version}\"", code[0].Source);
        Assert.Contains("using System.IO;", code[0].Source);
        Assert.All(code[0].Source.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0),
            line => Assert.True(line.StartsWith("#r ") || line.StartsWith("#i ") || line.StartsWith("using "), $"{name}: first cell holds '{line}'"));
        Assert.Single(code, c => c.Tags.Contains("parameters"));
        Assert.True(notebook.Cells[0].CellType == "markdown" && notebook.Cells[0].Source.StartsWith("# "), $"{name} starts with a title");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Notebook_runs_headless_at_test_sizes_and_shows_charts(string name)
    {
        using var output = new TempFolder();
        var notebook = Notebook.Load(Path.Combine(Folder, name));
        var log = new StringWriter();
        var runner = new NotebookRunner().LogTo(log).WithCellTimeout(TimeSpan.FromMinutes(3));
        foreach (var (parameter, value) in TestSizes[name]) runner.WithParameter(parameter, value);
        if (notebook.Cells.Any(c => c.Tags.Contains("parameters") && c.Source.Contains("string outputDir")))
            runner.WithParameter("outputDir", output.Path);

        var threads = TorchSharp.torch.get_num_threads();   // the notebooks pin torch to one thread for the tiny model
        NotebookRun run;
        try
        {
            run = runner.Run(notebook);
        }
        finally
        {
            TorchSharp.torch.set_num_threads(threads);
        }

        Assert.True(run.Succeeded, log.ToString());
        var charts = run.Notebook.Cells.SelectMany(c => c.Outputs)
            .Count(o => o["data"]?["text/html"] is { } html && html.ToJsonString().Contains("Plotly.newPlot", StringComparison.Ordinal));
        Assert.True(charts >= 2, $"{name} showed {charts} chart(s); every notebook should show its diagnostics as charts\n{log}");
    }
}
