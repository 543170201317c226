using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace FineTune.Kit.Notebooks.Html;

/// <summary>
/// A small Markdown renderer for notebook text cells: headings, paragraphs, emphasis, code spans and fenced code,
/// links and images, bullet and numbered lists, block quotes, rules and pipe tables. Raw HTML is shown as text, and
/// links may only point to http(s), mailto, relative or in-page targets.
/// </summary>
public static partial class MarkdownHtml
{
    [GeneratedRegex(@"^(#{1,6})\s+(.*?)\s*#*\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"^\s*([-*+]|\d+[.)])\s+(.*)$")]
    private static partial Regex ListItem();

    [GeneratedRegex(@"^\s*([-*_])(\s*\1){2,}\s*$")]
    private static partial Regex Rule();

    [GeneratedRegex(@"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")]
    private static partial Regex TableDivider();

    [GeneratedRegex(@"!\[([^\]]*)\]\(([^)\s]+)\)")]
    private static partial Regex Image();

    [GeneratedRegex(@"\[([^\]]+)\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")]
    private static partial Regex Strong();

    [GeneratedRegex(@"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")]
    private static partial Regex Emphasis();

    /// <summary>Renders Markdown text as an HTML fragment.</summary>
    public static string Render(string markdown)
    {
        var lines = markdown.Replace("\r\n", "\n").Split('\n');
        var html = new StringBuilder();
        var paragraph = new List<string>();
        void FlushParagraph()
        {
            if (paragraph.Count == 0) return;
            html.Append("<p>").Append(Inline(string.Join("\n", paragraph))).Append("</p>\n");
            paragraph.Clear();
        }

        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                FlushParagraph();
                var code = new List<string>();
                for (i++; i < lines.Length && !lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal); i++) code.Add(lines[i]);
                html.Append("<pre><code>").Append(WebUtility.HtmlEncode(string.Join("\n", code))).Append("</code></pre>\n");
            }
            else if (string.IsNullOrWhiteSpace(line))
            {
                FlushParagraph();
            }
            else if (Heading().Match(line) is { Success: true } heading)
            {
                FlushParagraph();
                int level = heading.Groups[1].Length;
                html.Append($"<h{level}>").Append(Inline(heading.Groups[2].Value)).Append($"</h{level}>\n");
            }
            else if (Rule().IsMatch(line))
            {
                FlushParagraph();
                html.Append("<hr>\n");
            }
            else if (line.TrimStart().StartsWith('>'))
            {
                FlushParagraph();
                var quoted = new List<string>();
                for (; i < lines.Length && lines[i].TrimStart().StartsWith('>'); i++) quoted.Add(lines[i].TrimStart()[1..].TrimStart());
                i--;
                html.Append("<blockquote>").Append(Render(string.Join("\n", quoted))).Append("</blockquote>\n");
            }
            else if (ListItem().Match(line) is { Success: true } first)
            {
                FlushParagraph();
                bool ordered = char.IsDigit(first.Groups[1].Value[0]);
                html.Append(ordered ? "<ol>\n" : "<ul>\n");
                for (; i < lines.Length && ListItem().Match(lines[i]) is { Success: true } item; i++)
                    html.Append("<li>").Append(Inline(item.Groups[2].Value)).Append("</li>\n");
                i--;
                html.Append(ordered ? "</ol>\n" : "</ul>\n");
            }
            else if (line.Contains('|') && i + 1 < lines.Length && TableDivider().IsMatch(lines[i + 1]))
            {
                FlushParagraph();
                html.Append("<table><thead><tr>");
                foreach (var cell in Cells(line)) html.Append("<th>").Append(Inline(cell)).Append("</th>");
                html.Append("</tr></thead><tbody>\n");
                for (i += 2; i < lines.Length && lines[i].Contains('|') && !string.IsNullOrWhiteSpace(lines[i]); i++)
                {
                    html.Append("<tr>");
                    foreach (var cell in Cells(lines[i])) html.Append("<td>").Append(Inline(cell)).Append("</td>");
                    html.Append("</tr>\n");
                }
                i--;
                html.Append("</tbody></table>\n");
            }
            else
            {
                paragraph.Add(line.Trim());
            }
        }
        FlushParagraph();
        return html.ToString();
    }

    /// <summary>Inline Markdown: code spans are kept literally, the rest is encoded, then emphasis and links apply.</summary>
    public static string Inline(string text)
    {
        var sb = new StringBuilder();
        var parts = text.Split('`');
        for (int i = 0; i < parts.Length; i++)
        {
            bool isCode = i % 2 == 1 && i < parts.Length - 1; // an unmatched backtick stays text
            if (isCode) sb.Append("<code>").Append(WebUtility.HtmlEncode(parts[i])).Append("</code>");
            else sb.Append(Emphasize((i % 2 == 1 ? "`" : "") + parts[i]));
        }
        return sb.ToString();
    }

    private static string Emphasize(string text)
    {
        var encoded = WebUtility.HtmlEncode(text);
        encoded = Image().Replace(encoded, m => SafeUrl(m.Groups[2].Value) is { } url ? $"<img src=\"{url}\" alt=\"{m.Groups[1].Value}\">" : m.Value);
        encoded = Link().Replace(encoded, m => SafeUrl(m.Groups[2].Value) is { } url ? $"<a href=\"{url}\">{m.Groups[1].Value}</a>" : m.Value);
        encoded = Strong().Replace(encoded, "<strong>$2</strong>");
        encoded = Emphasis().Replace(encoded, "<em>$2</em>");
        return encoded;
    }

    // the URL arrives HTML-encoded already; refuse script and data URLs
    private static string? SafeUrl(string url)
    {
        var decoded = WebUtility.HtmlDecode(url);
        int colon = decoded.IndexOf(':');
        int slash = decoded.IndexOfAny(['/', '?', '#']);
        bool hasScheme = colon >= 0 && (slash < 0 || colon < slash);
        if (!hasScheme) return url;
        var scheme = decoded[..colon].ToLowerInvariant();
        return scheme is "http" or "https" or "mailto" ? url : null;
    }

    private static IEnumerable<string> Cells(string row)
    {
        var trimmed = row.Trim();
        if (trimmed.StartsWith('|')) trimmed = trimmed[1..];
        if (trimmed.EndsWith('|')) trimmed = trimmed[..^1];
        return trimmed.Split('|').Select(c => c.Trim());
    }
}
