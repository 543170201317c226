using System.Text;

namespace FineTune.Kit.Data.Curation;

/// <summary>
/// Collapses runs of spaces and tabs (any Unicode white space, e.g. no-break space) into one space and trims the text.
/// With <c>keepNewlines</c> (default) line breaks stay, at most one blank line in a row; otherwise every run of white
/// space becomes one space.
/// </summary>
public sealed class CollapseWhitespaceRule(bool keepNewlines = true, IReadOnlyList<string>? columns = null) : TextTransformRule(columns)
{
    /// <summary>Whether line breaks are kept.</summary>
    public bool KeepNewlines { get; } = keepNewlines;

    /// <inheritdoc/>
    public override string Name => "collapse_whitespace";

    /// <inheritdoc/>
    public override string Transform(string text)
    {
        var sb = new StringBuilder(text.Length);
        int pendingNewlines = 0;
        bool pendingSpace = false;
        foreach (var c in text)
        {
            if (c == '\n' && KeepNewlines) { pendingNewlines++; pendingSpace = false; continue; }
            if (c == '\r' && KeepNewlines) continue;
            if (char.IsWhiteSpace(c)) { pendingSpace = true; continue; }
            if (sb.Length > 0)
            {
                if (pendingNewlines > 0) sb.Append('\n', Math.Min(pendingNewlines, 2));
                else if (pendingSpace) sb.Append(' ');
            }
            pendingNewlines = 0;
            pendingSpace = false;
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <inheritdoc/>
    protected override string Describe(string before, string after) => "whitespace collapsed";
}
