using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace FineTune.Kit.Data.Curation;

/// <summary>
/// Turns HTML into plain text: drops <c>script</c>, <c>style</c> and comments with their content, turns block tags
/// (p, div, br, li, headings, table rows) into line breaks, removes all other tags, then decodes entities (named and
/// numeric). Tags are removed before entities are decoded, so an escaped <c>&amp;lt;b&amp;gt;</c> survives as text.
/// Text without a tag or entity is left as it is.
/// </summary>
public sealed partial class StripHtmlRule(IReadOnlyList<string>? columns = null) : TextTransformRule(columns)
{
    /// <inheritdoc/>
    public override string Name => "strip_html";

    /// <inheritdoc/>
    public override string Transform(string text) => ToText(text);

    /// <summary>HTML to plain text (see the class summary).</summary>
    public static string ToText(string html)
    {
        if (html.IndexOf('<') < 0 && html.IndexOf('&') < 0) return html;
        var s = Invisible().Replace(html, "");
        s = BlockBreak().Replace(s, "\n");
        s = Tag().Replace(s, "");
        s = WebUtility.HtmlDecode(s);
        // the newlines inserted for block tags: no more than one blank line, no trailing spaces before them
        s = SpacesBeforeNewline().Replace(s, "\n");
        s = ManyNewlines().Replace(s, "\n\n");
        return s.Trim('\n');
    }

    [GeneratedRegex(@"<(script|style|noscript|template)\b[^>]*>.*?</\1\s*>|<!--.*?-->|<!\[CDATA\[.*?\]\]>", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex Invisible();

    [GeneratedRegex(@"<\s*(br|hr)\b[^>]*>|</?\s*(p|div|li|ul|ol|tr|table|h[1-6]|section|article|header|footer|blockquote|pre)\b[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex BlockBreak();

    // a tag starts with a letter, '/' or '!' right after '<'; "a < b" is not a tag
    [GeneratedRegex(@"<[A-Za-z/!?][^<>]*>")]
    private static partial Regex Tag();

    [GeneratedRegex(@"[ \t]+\n")]
    private static partial Regex SpacesBeforeNewline();

    [GeneratedRegex(@"\n{3,}")]
    private static partial Regex ManyNewlines();

    /// <inheritdoc/>
    protected override string Describe(string before, string after) => "HTML converted to text";
}
