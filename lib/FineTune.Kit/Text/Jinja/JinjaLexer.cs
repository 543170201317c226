using System.Globalization;
using System.Text;

namespace FineTune.Kit.Text.Jinja;

/// <summary>
/// Splits a template into text and tag tokens with the whitespace rules chat templates are written for (those of
/// Hugging Face's renderer): trim_blocks (the newline after a block or comment tag goes), lstrip_blocks (spaces and tabs
/// before a block or comment tag at the start of a line go), <c>-</c> on a delimiter strips all whitespace on that side,
/// and one trailing newline of the template is dropped.
/// </summary>
internal sealed class JinjaLexer
{
    private readonly string src;
    private readonly string name;
    private readonly List<JinjaToken> tokens = [];
    private int pos;
    private int line = 1;

    private JinjaLexer(string source, string name)
    {
        src = source.EndsWith('\n') ? source[..^1] : source;
        this.name = name;
    }

    public static List<JinjaToken> Tokenize(string source, string name) => new JinjaLexer(source, name).Run();

    private List<JinjaToken> Run()
    {
        var stripNext = false; // the previous tag ended with '-': drop all leading whitespace of the next text
        var trimNewline = false; // the previous tag was a block/comment: drop one leading newline (trim_blocks)
        while (pos < src.Length)
        {
            var tagAt = NextTag(pos);
            var textEnd = tagAt < 0 ? src.Length : tagAt;
            var textStart = pos;
            var textLine = line;
            Advance(textEnd);
            var text = src[textStart..textEnd];
            var lineStart = textStart == 0 || src[textStart - 1] == '\n';
            if (stripNext) { var t = text.TrimStart(); lineStart |= t.Length < text.Length && text[..(text.Length - t.Length)].Contains('\n'); text = t; }
            else if (trimNewline && text.StartsWith('\n')) { text = text[1..]; lineStart = true; }
            if (tagAt >= 0)
            {
                var open = src.Substring(tagAt, 2);
                var strip = tagAt + 2 < src.Length && src[tagAt + 2] == '-';
                var keep = tagAt + 2 < src.Length && src[tagAt + 2] == '+';
                if (strip) text = text.TrimEnd();
                else if (open != "{{" && !keep) text = LstripBlock(text, lineStart);
            }
            if (text.Length > 0) tokens.Add(new JinjaToken(JinjaTokenKind.Text, text, textLine));
            if (tagAt < 0) break;

            var kind = src[tagAt + 1];
            Advance(tagAt + 2);
            if (pos < src.Length && (src[pos] == '-' || src[pos] == '+')) Advance(pos + 1);
            if (kind == '#')
            {
                var close = src.IndexOf("#}", pos, StringComparison.Ordinal);
                if (close < 0) throw Error(line, "comment", "a '{#' comment is never closed with '#}'");
                stripNext = close > pos && src[close - 1] == '-';
                Advance(close + 2);
                trimNewline = !stripNext;
                continue;
            }
            var isStatement = kind == '%';
            var openLine = line;
            tokens.Add(new JinjaToken(isStatement ? JinjaTokenKind.OpenStatement : JinjaTokenKind.OpenExpression, isStatement ? "{%" : "{{", openLine));
            stripNext = LexInside(isStatement, openLine);
            trimNewline = isStatement && !stripNext;
        }
        tokens.Add(new JinjaToken(JinjaTokenKind.End, "", line));
        return tokens;
    }

    // lstrip_blocks: spaces and tabs between the start of a line and a block tag are not output.
    private static string LstripBlock(string text, bool textStartsLine)
    {
        var nl = text.LastIndexOf('\n');
        if (nl < 0 && !textStartsLine) return text;
        var tail = text[(nl + 1)..];
        return tail.All(c => c is ' ' or '\t') ? text[..(nl + 1)] : text;
    }

    private int NextTag(int from)
    {
        for (var i = from; i + 1 < src.Length; i++)
            if (src[i] == '{' && src[i + 1] is '{' or '%' or '#') return i;
        return -1;
    }

    private void Advance(int to)
    {
        for (var i = pos; i < to; i++) if (src[i] == '\n') line++;
        pos = to;
    }

    // Lexes expression tokens up to the closing delimiter; returns whether it was written with '-'.
    private bool LexInside(bool statement, int openLine)
    {
        var depth = 0; // open ( [ { inside the tag, so a dict literal's '}}' is not taken as the end
        var what = statement ? "'{%' tag" : "'{{' expression";
        while (true)
        {
            while (pos < src.Length && char.IsWhiteSpace(src[pos])) Advance(pos + 1);
            if (pos >= src.Length) throw Error(openLine, what, $"never closed with '{(statement ? "%}" : "}}")}'");
            var c = src[pos];
            var close = statement ? "%}" : "}}";
            if (depth == 0 && (Match(close) || (c == '-' && Match("-" + close))))
            {
                var stripped = c == '-';
                Advance(pos + (stripped ? 3 : 2));
                tokens.Add(new JinjaToken(statement ? JinjaTokenKind.CloseStatement : JinjaTokenKind.CloseExpression, close, line));
                return stripped;
            }
            if (c is '"' or '\'') { LexString(c); continue; }
            if (char.IsAsciiDigit(c)) { LexNumber(); continue; }
            if (char.IsLetter(c) || c == '_')
            {
                var start = pos;
                while (pos < src.Length && (char.IsLetterOrDigit(src[pos]) || src[pos] == '_')) pos++;
                tokens.Add(new JinjaToken(JinjaTokenKind.Name, src[start..pos], line));
                continue;
            }
            var op = new[] { "//", "**", "==", "!=", "<=", ">=" }.FirstOrDefault(Match)
                     ?? ("+-*/%~|.,:()[]{}=<>".Contains(c) ? c.ToString() : null)
                     ?? throw Error(line, what, $"unexpected character '{c}'");
            if (op is "(" or "[" or "{") depth++;
            else if (op is ")" or "]" or "}") depth = Math.Max(0, depth - 1);
            tokens.Add(new JinjaToken(JinjaTokenKind.Operator, op, line));
            Advance(pos + op.Length);
        }
    }

    private bool Match(string s) => string.CompareOrdinal(src, pos, s, 0, s.Length) == 0;

    private void LexString(char quote)
    {
        var startLine = line;
        var sb = new StringBuilder();
        Advance(pos + 1);
        while (true)
        {
            if (pos >= src.Length) throw Error(startLine, "string literal", "never closed");
            var c = src[pos];
            if (c == quote) { Advance(pos + 1); break; }
            if (c == '\\' && pos + 1 < src.Length)
            {
                var e = src[pos + 1];
                Advance(pos + 2);
                switch (e)
                {
                    case 'n': sb.Append('\n'); break;
                    case 't': sb.Append('\t'); break;
                    case 'r': sb.Append('\r'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'v': sb.Append('\v'); break;
                    case '0': sb.Append('\0'); break;
                    case '\\' or '\'' or '"': sb.Append(e); break;
                    case '\n': break;
                    case 'x' or 'u' or 'U':
                        var n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                        if (pos + n > src.Length || !int.TryParse(src.AsSpan(pos, n), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var cp))
                            throw Error(line, "string literal", $"bad escape '\\{e}' (expected {n} hex digits)");
                        sb.Append(char.ConvertFromUtf32(cp));
                        Advance(pos + n);
                        break;
                    default: sb.Append('\\').Append(e); break; // Python keeps unknown escapes as written
                }
                continue;
            }
            sb.Append(c);
            Advance(pos + 1);
        }
        tokens.Add(new JinjaToken(JinjaTokenKind.String, sb.ToString(), startLine));
    }

    private void LexNumber()
    {
        var start = pos;
        while (pos < src.Length && (char.IsAsciiDigit(src[pos]) || src[pos] == '_')) pos++;
        var isFloat = false;
        // "1.5" is a float; "x.0" (after a dot) is attribute access and stays an integer
        if (pos + 1 < src.Length && src[pos] == '.' && char.IsAsciiDigit(src[pos + 1])
            && !(tokens.Count > 0 && tokens[^1].IsOp(".")))
        {
            isFloat = true;
            pos++;
            while (pos < src.Length && char.IsAsciiDigit(src[pos])) pos++;
        }
        if (pos < src.Length && src[pos] is 'e' or 'E')
        {
            var save = pos;
            pos++;
            if (pos < src.Length && src[pos] is '+' or '-') pos++;
            if (pos < src.Length && char.IsAsciiDigit(src[pos])) { isFloat = true; while (pos < src.Length && char.IsAsciiDigit(src[pos])) pos++; }
            else pos = save;
        }
        tokens.Add(new JinjaToken(isFloat ? JinjaTokenKind.Float : JinjaTokenKind.Integer, src[start..pos].Replace("_", ""), line));
    }

    private JinjaException Error(int atLine, string construct, string message) =>
        new($"{name}: line {atLine}: {construct}: {message}");
}
