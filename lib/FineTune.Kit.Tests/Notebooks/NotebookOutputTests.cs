using FineTune.Kit.Notebooks.Execution;
using FineTune.Kit.Notebooks.Html;
using FineTune.Kit.Notebooks.Model;
using FineTune.Kit.Plots;

namespace FineTune.Kit.Tests.Notebooks;

public class NotebookOutputTests
{
    private static int Count(string text, string part)
    {
        int n = 0;
        for (int at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    [Fact]
    public void Charts_tables_and_reports_become_html_with_plotly_embedded_once()
    {
        using var folder = new TempFolder();
        var path = folder.File("charts.ipynb");
        Notebook.Create()
            .Markdown("# Loss\nTwo charts and a `DataFrame`.")
            .Code("using Plotly.NET.CSharp;\nvar chart = Chart.Line<double, double, string>(x: new[] { 1.0, 2, 3 }, y: new[] { 2.0, 4, 8 });\ndisplay(chart);")
            .Code("chart")
            .Code("using Microsoft.Data.Analysis;\nvar df = new DataFrame(new Int32DataFrameColumn(\"n\", Enumerable.Range(0, 30)),\n" +
                  "    new StringDataFrameColumn(\"s\", Enumerable.Range(0, 30).Select(i => \"r\" + i)));\ndf")
            .Code("public class Report { public string ToHtml() => \"<b>bold</b>\"; public override string ToString() => \"report\"; }\nnew Report()")
            .Code("public class Curve(Plotly.NET.GenericChart c) { public Plotly.NET.GenericChart Chart() => c; }\nnew Curve(chart)")
            .Code("new HtmlPage(\"a whole page\").Chart(chart).Display();")
            .Save(path);
        var log = new StringWriter();

        var run = new NotebookRunner().LogTo(log).Run(Notebook.Load(path));

        Assert.True(run.Succeeded, log.ToString());
        var cells = run.Notebook.Cells;
        var plotlyJs = HtmlPage.PlotlyJs.Value;
        var allHtml = string.Concat(cells.Select(c => c.OutputText("text/html")));
        Assert.Equal(1, Count(allHtml, plotlyJs));
        Assert.Equal(1, Count(allHtml, plotlyJs[..300]));
        Assert.Contains(plotlyJs, cells[1].OutputText("text/html"));
        Assert.Equal("display_data", (string)cells[1].Outputs.Single()["output_type"]!);
        foreach (var later in new[] { cells[2], cells[5], cells[6] })
        {
            Assert.Contains("Plotly.newPlot", later.OutputText("text/html"));
            Assert.DoesNotContain(plotlyJs, later.OutputText("text/html"));
            Assert.Contains("if (window.Plotly) renderPlotly_", later.OutputText("text/html"));
        }
        Assert.Contains("<th>n</th><th>s</th>", cells[3].OutputText("text/html"));
        Assert.Contains("<td>r19</td>", cells[3].OutputText("text/html"));
        Assert.DoesNotContain("<td>r20</td>", cells[3].OutputText("text/html"));
        Assert.Contains("30 rows, 2 columns (first 20 shown)", cells[3].OutputText("text/html"));
        Assert.NotEmpty(cells[3].OutputText("text/plain"));
        Assert.Equal("<b>bold</b>", cells[4].OutputText("text/html"));
        Assert.Equal("report", cells[4].OutputText("text/plain"));

        // the saved notebook reads back with the same outputs
        run.Notebook.Save(folder.File("executed.ipynb"));
        var reread = Notebook.Load(folder.File("executed.ipynb"));
        Assert.Equal(allHtml, string.Concat(reread.Cells.Select(c => c.OutputText("text/html"))));

        var page = NotebookHtml.Render(reread);
        Assert.Equal(1, Count(page, plotlyJs));
        Assert.Equal(1, Count(page, plotlyJs[..300])); // not even an altered second copy
        Assert.True(page.IndexOf(plotlyJs, StringComparison.Ordinal) < page.IndexOf("Plotly.newPlot", StringComparison.Ordinal));
        Assert.Equal(3, Count(page, "if (window.Plotly) renderPlotly_")); // every chart but the first waits for plotly.js
        Assert.Contains("<h1>Loss</h1>", page);
        Assert.Contains("<code>DataFrame</code>", page);
        Assert.Contains("<b>bold</b>", page);
        Assert.Contains("<pre><code>chart</code></pre>", page);
    }

    [Fact]
    public void A_page_without_charts_carries_no_plotly()
    {
        var notebook = Notebook.Create().Markdown("Plotly.NET is mentioned, not drawn").Code("1 + 1");
        var page = NotebookHtml.Render(notebook, "plain");
        Assert.DoesNotContain(HtmlPage.PlotlyJs.Value[..200], page);
        Assert.Contains("<title>plain</title>", page);
    }
}
