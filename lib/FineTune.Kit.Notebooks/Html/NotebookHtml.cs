using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FineTune.Kit.Io;
using FineTune.Kit.Notebooks.Model;
using FineTune.Kit.Plots;

namespace FineTune.Kit.Notebooks.Html;

/// <summary>
/// A notebook as one standalone HTML page: markdown cells rendered, code cells as preformatted text, outputs as the
/// notebook stores them (HTML as is, text escaped). plotly.js is embedded once, in the page head, only when some output
/// draws a chart; copies carried by the outputs themselves are dropped.
/// </summary>
public static partial class NotebookHtml
{
    private const string Style =
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}" +
        "pre{background:#f6f8fa;padding:.6em .8em;overflow-x:auto;border-radius:4px;margin:.3em 0}" +
        ".cell{margin:1.2em 0}.prompt{color:#888;font:12px monospace}.output pre{background:#fff;border-left:3px solid #ddd}" +
        ".output pre.stderr{border-left-color:#e0b000}.output pre.error{border-left-color:#d33;color:#a00}" +
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f3f3f3}" +
        "blockquote{border-left:3px solid #ccc;margin:0;padding-left:1em;color:#555}code{font-size:90%}";

    [GeneratedRegex(@"\x1b\[[0-9;]*[A-Za-z]")]
    private static partial Regex AnsiEscape();

    /// <summary>Writes the page atomically.</summary>
    public static void Save(Notebook notebook, string path, string? title = null) =>
        AtomicFile.WriteAllText(path, Render(notebook, title));

    /// <summary>The page as HTML text.</summary>
    public static string Render(Notebook notebook, string? title = null)
    {
        title ??= notebook.Path is null ? "Notebook" : Path.GetFileNameWithoutExtension(notebook.Path);
        var bundle = "<script>" + HtmlPage.PlotlyJs.Value + "</script>";
        var body = new StringBuilder();
        foreach (var cell in notebook.Cells)
        {
            body.Append("<div class=\"cell\">\n");
            if (cell.CellType == "markdown")
            {
                body.Append(MarkdownHtml.Render(cell.Source));
            }
            else if (cell.IsCode)
            {
                var kernel = Kernels.Normalize(cell.KernelName ?? notebook.DefaultKernel);
                body.Append("<div class=\"prompt\">").Append(WebUtility.HtmlEncode(
                    $"[{cell.ExecutionCount?.ToString() ?? " "}] {kernel}")).Append("</div>\n");
                body.Append("<pre><code>").Append(WebUtility.HtmlEncode(cell.Source)).Append("</code></pre>\n");
                foreach (var output in cell.Outputs)
                    body.Append("<div class=\"output\">").Append(Output(output).Replace(bundle, "", StringComparison.Ordinal)).Append("</div>\n");
            }
            else
            {
                body.Append("<pre>").Append(WebUtility.HtmlEncode(cell.Source)).Append("</pre>\n");
            }
            body.Append("</div>\n");
        }

        var html = body.ToString();
        bool drawsCharts = html.Contains("Plotly.newPlot", StringComparison.Ordinal) || html.Contains("Plotly.react", StringComparison.Ordinal);
        return new StringBuilder("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>")
            .Append(WebUtility.HtmlEncode(title)).Append("</title>\n<style>").Append(Style).Append("</style>\n")
            .Append(drawsCharts ? bundle + "\n" : "")
            .Append("</head><body>\n").Append(html).Append("</body></html>\n").ToString();
    }

    private static string Output(JsonObject output)
    {
        // terminal colour codes are stripped from text meant for a console, never from HTML (plotly.js contains some)
        string Raw(JsonNode? node) => JupyterText.Read(node, "output");
        string Text(JsonNode? node) => AnsiEscape().Replace(Raw(node), "");
        switch ((string?)output["output_type"])
        {
            case "stream":
                var name = (string?)output["name"] == "stderr" ? "stderr" : "stdout";
                return $"<pre class=\"stream {name}\">{WebUtility.HtmlEncode(Text(output["text"]))}</pre>";
            case "error":
                var trace = output["traceback"] is JsonArray lines ? string.Join("\n", lines.Select(l => Text(l))) : "";
                var evalue = Text(output["evalue"]);
                var shown = trace.Contains(evalue, StringComparison.Ordinal) ? trace : $"{Text(output["ename"])}: {evalue}\n{trace}";
                return $"<pre class=\"error\">{WebUtility.HtmlEncode(shown)}</pre>";
            case "display_data" or "execute_result" when output["data"] is JsonObject data:
                if (data["text/html"] is { } html) return Raw(html);
                if (data["image/svg+xml"] is { } svg) return Raw(svg);
                foreach (var image in new[] { "image/png", "image/jpeg", "image/gif" })
                    if (data[image] is { } base64)
                        return $"<img src=\"data:{image};base64,{Regex.Replace(Raw(base64), @"\s", "")}\">";
                if (data["text/markdown"] is { } markdown) return MarkdownHtml.Render(Text(markdown));
                if (data["text/plain"] is { } plain) return $"<pre>{WebUtility.HtmlEncode(Text(plain))}</pre>";
                return "";
            default:
                return "";
        }
    }
}
