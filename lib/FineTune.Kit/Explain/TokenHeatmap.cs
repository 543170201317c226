using System.Globalization;
using System.Net;
using System.Text;

namespace FineTune.Kit.Explain;

/// <summary>
/// Renders an <see cref="Attribution"/> as text with each feature shaded red (pushes f up) or blue (pushes f down),
/// opacity proportional to |value| / max |value|, the exact value in the hover title, and a bar of the contributions
/// meeting at f(x) with the base value marked (in the style of a force plot).
/// </summary>
public static class TokenHeatmap
{
    /// <summary>The heatmap and the base → f(x) bar as one self-contained HTML fragment (no scripts).</summary>
    public static string Html(Attribution a)
    {
        var sb = new StringBuilder("<div class=\"ftk-attribution\" style=\"font-family:system-ui,sans-serif;margin:1em 0\">\n");
        sb.Append("<div style=\"font-size:0.85em;color:#555;margin-bottom:0.4em\">")
          .Append(WebUtility.HtmlEncode(a.Method));
        if (a.Target.Length > 0) sb.Append(" · ").Append(WebUtility.HtmlEncode(a.Target));
        sb.Append(" · base ").Append(Num(a.BaseValue)).Append(" → f(x) ").Append(Num(a.FullValue))
          .Append(" · Σ attributions ").Append(Num(a.Sum)).Append("</div>\n");
        sb.Append(Text(a)).Append('\n').Append(Bar(a)).Append("</div>");
        return sb.ToString();
    }

    /// <summary>The shaded text alone.</summary>
    public static string Text(Attribution a)
    {
        double max = a.Values.Length == 0 ? 0 : a.Values.Max(Math.Abs);
        var sb = new StringBuilder("<div style=\"line-height:2;white-space:pre-wrap\">");
        var source = a.Source;
        bool haveOffsets = source?.Text is not null && source.Count == a.Values.Length && source.All(f => f.Start >= 0);
        int at = 0;
        for (int i = 0; i < a.Values.Length; i++)
        {
            if (haveOffsets)
            {
                // reproduce the original text between features (spaces, unmasked tokens)
                var f = source![i];
                if (f.Start > at) sb.Append(WebUtility.HtmlEncode(source.Text![at..f.Start]));
                at = Math.Max(at, f.End);
            }
            else if (i > 0) sb.Append(' ');
            sb.Append("<span title=\"").Append(WebUtility.HtmlEncode($"{a.Features[i]}: {Num(a.Values[i])}"))
              .Append("\" style=\"background:").Append(Colour(a.Values[i], max))
              .Append(";border-radius:3px;padding:1px 2px\">")
              .Append(WebUtility.HtmlEncode(a.Features[i])).Append("</span>");
        }
        if (haveOffsets && at < source!.Text!.Length) sb.Append(WebUtility.HtmlEncode(source.Text[at..]));
        return sb.Append("</div>").ToString();
    }

    /// <summary>
    /// An SVG bar in the style of a force plot: red segments (positive contributions, largest nearest f(x)) end at f(x)
    /// from the left, blue ones (negative) start at f(x) and run right. The base value is marked on the same axis; for
    /// an efficient method it sits at f(x) − Σ red + Σ blue.
    /// </summary>
    public static string Bar(Attribution a)
    {
        var pos = Enumerable.Range(0, a.Values.Length).Where(i => a.Values[i] > 0).OrderBy(i => a.Values[i]).ToArray();
        var neg = Enumerable.Range(0, a.Values.Length).Where(i => a.Values[i] < 0).OrderBy(i => a.Values[i]).ToArray();
        double sumPos = pos.Sum(i => a.Values[i]), sumNeg = -neg.Sum(i => a.Values[i]);
        double lo = Math.Min(Math.Min(a.FullValue - sumPos, a.BaseValue), a.FullValue);
        double hi = Math.Max(Math.Max(a.FullValue + sumNeg, a.BaseValue), a.FullValue);
        if (hi - lo < 1e-12) { lo -= 1; hi += 1; }
        const double width = 1000, left = 10, right = 990;
        double X(double v) => left + (v - lo) / (hi - lo) * (right - left);
        var sb = new StringBuilder($"<svg viewBox=\"0 0 {width} 70\" width=\"100%\" style=\"max-width:{width}px\" role=\"img\">");
        double x = a.FullValue - sumPos;
        foreach (var i in pos) { Segment(sb, X(x), X(x + a.Values[i]), "#d62728", a, i); x += a.Values[i]; }
        x = a.FullValue;
        foreach (var i in neg) { Segment(sb, X(x), X(x - a.Values[i]), "#1f77b4", a, i); x -= a.Values[i]; }
        Marker(sb, X(a.BaseValue), $"base {Num(a.BaseValue)}", 62, "#555");
        Marker(sb, X(a.FullValue), $"f(x) {Num(a.FullValue)}", 12, "#000");
        return sb.Append("</svg>").ToString();
    }

    private static void Segment(StringBuilder sb, double x0, double x1, string colour, Attribution a, int i)
    {
        double from = Math.Min(x0, x1), w = Math.Max(Math.Abs(x1 - x0), 0.5);
        sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{from:F2}\" y=\"22\" width=\"{w:F2}\" height=\"24\" fill=\"{colour}\" stroke=\"#fff\" stroke-width=\"1\">")
          .Append("<title>").Append(WebUtility.HtmlEncode($"{a.Features[i]}: {Num(a.Values[i])}")).Append("</title></rect>");
        if (w > 40)
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{from + w / 2:F2}\" y=\"38\" font-size=\"11\" fill=\"#fff\" text-anchor=\"middle\">")
              .Append(WebUtility.HtmlEncode(Shorten(a.Features[i].Trim(), (int)(w / 7)))).Append("</text>");
    }

    private static void Marker(StringBuilder sb, double x, string label, double textY, string colour) =>
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x:F2}\" x2=\"{x:F2}\" y1=\"16\" y2=\"52\" stroke=\"{colour}\" stroke-width=\"2\"/>")
          .Append(CultureInfo.InvariantCulture, $"<text x=\"{x:F2}\" y=\"{textY}\" font-size=\"12\" fill=\"{colour}\" text-anchor=\"middle\">")
          .Append(WebUtility.HtmlEncode(label)).Append("</text>");

    /// <summary>rgba colour: red for positive, blue for negative, opacity |v| / max.</summary>
    internal static string Colour(double v, double max)
    {
        double alpha = max > 0 ? Math.Min(1, Math.Abs(v) / max) : 0;
        var rgb = v >= 0 ? "214,39,40" : "31,119,180";
        return string.Create(CultureInfo.InvariantCulture, $"rgba({rgb},{alpha * 0.85:F3})");
    }

    private static string Shorten(string s, int n) => s.Length <= n ? s : s[..Math.Max(1, n - 1)] + "…";

    private static string Num(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}
