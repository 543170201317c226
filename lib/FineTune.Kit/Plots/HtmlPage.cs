using System.Net;
using System.Reflection;
using System.Text;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using Plotly.NET;

namespace FineTune.Kit.Plots;

/// <summary>
/// A standalone HTML page of charts and text sections. plotly.js is embedded once, from the copy that ships inside
/// Plotly.NET, so the page opens offline.
/// </summary>
public sealed class HtmlPage
{
    private readonly StringBuilder _body = new();

    /// <summary>Creates a page with the given title.</summary>
    public HtmlPage(string title) => Title = title;

    /// <summary>The page title, shown as its first heading.</summary>
    public string Title { get; }

    /// <summary>Adds a section heading.</summary>
    public HtmlPage Heading(string text, int level = 2)
    {
        _body.Append($"<h{level}>{WebUtility.HtmlEncode(text)}</h{level}>\n");
        return this;
    }

    /// <summary>Adds a paragraph of plain text (HTML-encoded).</summary>
    public HtmlPage Paragraph(string text)
    {
        _body.Append("<p>").Append(WebUtility.HtmlEncode(text)).Append("</p>\n");
        return this;
    }

    /// <summary>Adds a fragment of HTML as it is (the caller encodes any user text).</summary>
    public HtmlPage Raw(string html)
    {
        _body.Append(html).Append('\n');
        return this;
    }

    /// <summary>Adds a chart.</summary>
    public HtmlPage Chart(GenericChart chart)
    {
        _body.Append("<div class=\"chart\">").Append(ChartFragment(chart)).Append("</div>\n");
        return this;
    }

    /// <summary>Adds a table with a header row; cells are HTML-encoded.</summary>
    public HtmlPage Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        _body.Append(HtmlTable(header, rows)).Append('\n');
        return this;
    }

    /// <summary>The whole page as HTML.</summary>
    public string ToHtml()
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>")
          .Append(WebUtility.HtmlEncode(Title)).Append("</title>\n<style>")
          .Append("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}")
          .Append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}")
          .Append("th{background:#f3f3f3}.chart{margin:1em 0}</style>\n<script>")
          .Append(PlotlyJs.Value)
          .Append("</script>\n</head><body>\n<h1>").Append(WebUtility.HtmlEncode(Title)).Append("</h1>\n")
          .Append(_body).Append("</body></html>\n");
        return sb.ToString();
    }

    /// <summary>Writes the page atomically (temp file, then rename).</summary>
    public void Save(string path) => Io.AtomicFile.WriteAllText(path, ToHtml());

    /// <summary>A chart as a div plus the script that draws it; expects plotly.js to be on the page already.</summary>
    public static string ChartFragment(GenericChart chart)
    {
        var noReference = DisplayOptions.init(
            FSharpOption<string>.None, FSharpOption<string>.None, FSharpOption<string>.None,
            FSharpOption<Giraffe.ViewEngine.HtmlElements.XmlNode>.None,
            FSharpOption<FSharpList<Giraffe.ViewEngine.HtmlElements.XmlNode>>.None,
            FSharpOption<FSharpList<Giraffe.ViewEngine.HtmlElements.XmlNode>>.None,
            FSharpOption<PlotlyJSReference>.Some(PlotlyJSReference.NoReference));
        return GenericChart.toChartHTML(Plotly.NET.Chart.withDisplayOptions(noReference).Invoke(chart));
    }

    /// <summary>A chart as a self-contained HTML fragment with plotly.js included (for notebook outputs).</summary>
    public static string StandaloneFragment(GenericChart chart) =>
        "<script>" + PlotlyJs.Value + "</script>\n" + ChartFragment(chart);

    /// <summary>An HTML table; every cell is encoded.</summary>
    public static string HtmlTable(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var sb = new StringBuilder("<table><thead><tr>");
        foreach (var h in header) sb.Append("<th>").Append(WebUtility.HtmlEncode(h)).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        foreach (var row in rows)
        {
            sb.Append("<tr>");
            foreach (var c in row) sb.Append("<td>").Append(WebUtility.HtmlEncode(c)).Append("</td>");
            sb.Append("</tr>");
        }
        return sb.Append("</tbody></table>").ToString();
    }

    /// <summary>The plotly.js bundle that ships inside the Plotly.NET assembly.</summary>
    public static readonly Lazy<string> PlotlyJs = new(() =>
    {
        var asm = typeof(GenericChart).Assembly;
        var name = asm.GetManifestResourceNames().Single(n => n.EndsWith(".min.js", StringComparison.Ordinal));
        using var stream = asm.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        // a closing script tag inside the bundle would end our inline script early; and the one CDN address in the
        // bundle, the default from which geo charts fetch their map outlines, points beside the page instead, so an
        // offline page never reaches out to the network
        return reader.ReadToEnd().Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase)
            .Replace("dflt:\"https://cdn.plot.ly/\"", "dflt:\"topojson/\"", StringComparison.Ordinal);
    });
}
