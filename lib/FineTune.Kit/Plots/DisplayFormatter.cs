using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Data.Analysis;
using Plotly.NET;

namespace FineTune.Kit.Plots;

/// <summary>
/// Turns a displayed value into the MIME bundle a notebook stores: Plotly.NET charts and anything with a public
/// `Chart()` as HTML charts, DataFrames as HTML tables, anything with a public `ToHtml()` (kit reports) as its HTML,
/// everything else as plain text.
/// </summary>
/// <remarks>
/// plotly.js (about 3.5 MB) is embedded once per notebook, in the first output that needs it, so charts render offline;
/// later charts use the global `Plotly` it defines, and copies of the bundle inside later HTML outputs (a kit report that
/// embeds its own) are removed. A notebook of ten charts thus stays near 3.5 MB instead of 35 MB. One formatter serves
/// one notebook run.
/// </remarks>
public sealed partial class DisplayFormatter
{
    /// <summary>Rows of a DataFrame shown in its HTML table.</summary>
    public const int DataFrameRows = 20;

    private static readonly Lazy<string> BundleTag = new(() => "<script>" + HtmlPage.PlotlyJs.Value + "</script>");

    // Plotly.NET ends a chart's script with `renderPlotly_<id>();`
    [GeneratedRegex(@"(renderPlotly_[0-9A-Za-z]+)\(\);(\s*</script>)")]
    private static partial Regex RenderCall();

    /// <summary>True once an output of this notebook carries plotly.js.</summary>
    public bool PlotlyEmbedded { get; private set; }

    /// <summary>Formats a value for a `display_data` or `execute_result` output.</summary>
    public MimeBundle Format(object? value)
    {
        switch (value)
        {
            case GenericChart chart:
                return FormatChart(chart);
            case DataFrame frame:
                return new MimeBundle().With("text/html", DataFrameHtml(frame)).With("text/plain", frame.ToString());
        }
        if (value is not null && PublicMethod(value, "ToHtml", typeof(string)) is { } toHtml)
            return new MimeBundle()
                .With("text/html", WithPlotlyOnce((string?)toHtml.Invoke(value, null) ?? ""))
                .With("text/plain", PlainText.Format(value));
        if (value is not null && PublicMethod(value, "Chart", typeof(GenericChart)) is { } toChart
            && toChart.Invoke(value, null) is GenericChart made)
            return FormatChart(made);
        return new MimeBundle().With("text/plain", PlainText.Format(value));
    }

    /// <summary>
    /// Makes an HTML fragment carry plotly.js exactly when this notebook has no copy yet: embeds it before the first
    /// chart and drops the bundle from later fragments that bring their own.
    /// </summary>
    public string WithPlotlyOnce(string html)
    {
        var tag = BundleTag.Value;
        int first = html.IndexOf(tag, StringComparison.Ordinal);
        if (first >= 0)
        {
            var keep = PlotlyEmbedded ? "" : tag;
            PlotlyEmbedded = true;
            return WhenPlotlyLoaded(html[..first] + keep + html[(first + tag.Length)..].Replace(tag, "", StringComparison.Ordinal));
        }
        if (!PlotlyEmbedded && (html.Contains("Plotly.newPlot", StringComparison.Ordinal) || html.Contains("Plotly.react", StringComparison.Ordinal)))
        {
            PlotlyEmbedded = true;
            return tag + "\n" + html;
        }
        return WhenPlotlyLoaded(html);
    }

    /// <summary>
    /// Makes the charts of a fragment without plotly.js wait until the global `Plotly` exists: a front end may render
    /// this output before the one that carries the bundle (VS Code renders outputs as they scroll into view).
    /// </summary>
    public static string WhenPlotlyLoaded(string html) =>
        RenderCall().Replace(html, "(function draw() { if (window.Plotly) $1(); else setTimeout(draw, 50); })();$2");

    private MimeBundle FormatChart(GenericChart chart)
    {
        var html = PlotlyEmbedded ? WhenPlotlyLoaded(HtmlPage.ChartFragment(chart)) : HtmlPage.StandaloneFragment(chart);
        PlotlyEmbedded = true;
        return new MimeBundle().With("text/html", html).With("text/plain", "Plotly.NET chart");
    }

    private static string DataFrameHtml(DataFrame frame)
    {
        var header = new List<string> { "" };
        header.AddRange(frame.Columns.Select(c => c.Name));
        long shown = Math.Min(frame.Rows.Count, DataFrameRows);
        var rows = new List<IReadOnlyList<string>>();
        for (long r = 0; r < shown; r++)
        {
            var row = new List<string> { r.ToString(CultureInfo.InvariantCulture) };
            row.AddRange(frame.Columns.Select(c => PlainText.Format(c[r])));
            rows.Add(row);
        }
        var sb = new StringBuilder(HtmlPage.HtmlTable(header, rows));
        sb.Append("<p><i>").Append(WebUtility.HtmlEncode(
            $"{frame.Rows.Count} rows, {frame.Columns.Count} columns" + (shown < frame.Rows.Count ? $" (first {shown} shown)" : "")))
          .Append("</i></p>");
        return sb.ToString();
    }

    private static MethodInfo? PublicMethod(object value, string name, Type returns)
    {
        var method = value.GetType().GetMethod(name, BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes);
        return method is not null && returns.IsAssignableFrom(method.ReturnType) ? method : null;
    }
}
