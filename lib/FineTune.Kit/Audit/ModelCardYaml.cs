using System.Globalization;
using System.Text;

namespace FineTune.Kit.Audit;

/// <summary>
/// The YAML of a model card's front matter, written by hand in one strict style: block mappings and sequences, two
/// spaces per level, every string double-quoted with JSON-style escapes (so no value is ever read as a number, a date,
/// a boolean or a comment), numbers in their shortest round-trip form. Values are strings, numbers, lists and ordered
/// mappings of them.
/// </summary>
internal static class ModelCardYaml
{
    /// <summary>An ordered mapping: keys in the order they are written.</summary>
    public sealed class Map : List<KeyValuePair<string, object>>
    {
        public Map Add(string key, object? value)
        {
            if (value is not null) Add(KeyValuePair.Create(key, value));
            return this;
        }
    }

    /// <summary>The document (without the --- lines).</summary>
    public static string Write(Map root)
    {
        var sb = new StringBuilder();
        WriteMap(sb, root, 0);
        return sb.ToString();
    }

    private static void WriteMap(StringBuilder sb, Map map, int indent, bool firstInline = false)
    {
        var first = true;
        foreach (var (key, value) in map)
        {
            if (!(first && firstInline)) sb.Append(' ', indent);
            first = false;
            sb.Append(Key(key)).Append(':');
            WriteValue(sb, value, indent);
        }
    }

    private static void WriteValue(StringBuilder sb, object value, int indent)
    {
        switch (value)
        {
            case Map { Count: 0 }:
                sb.Append(" {}\n");
                break;
            case Map m:
                sb.Append('\n');
                WriteMap(sb, m, indent + 2);
                break;
            case string or double or int or long:
                sb.Append(' ').Append(Scalar(value)).Append('\n');
                break;
            case System.Collections.IEnumerable list:
                var items = list.Cast<object>().ToList();
                if (items.Count == 0) { sb.Append(" []\n"); break; }
                sb.Append('\n');
                foreach (var item in items)
                {
                    sb.Append(' ', indent).Append("- ");
                    if (item is Map im && im.Count > 0) WriteMap(sb, im, indent + 2, firstInline: true);
                    else if (item is Map) sb.Append("{}\n");
                    else sb.Append(Scalar(item)).Append('\n');
                }
                break;
            default:
                throw new ArgumentException($"a model card value of type {value.GetType().Name} has no YAML form");
        }
    }

    private static string Key(string key) =>
        key.Length > 0 && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') && char.IsAsciiLetter(key[0]) ? key : Quote(key);

    /// <summary>A scalar: a quoted string or a finite number.</summary>
    public static string Scalar(object value) => value switch
    {
        string s => Quote(s),
        double d when double.IsFinite(d) => Number(d),
        double d => throw new ArgumentException($"{d} has no place in a model card: only finite numbers are written"),
        int i => i.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        _ => throw new ArgumentException($"a model card value of type {value.GetType().Name} has no YAML form"),
    };

    /// <summary>A double in its shortest round-trip form, with a decimal point or exponent YAML reads as a float.</summary>
    public static string Number(double d)
    {
        var s = d.ToString("R", CultureInfo.InvariantCulture);
        if (s.Contains('E'))
        {
            // "1E-05" → "1.0e-05": YAML 1.1 readers want a dot in a float
            var (mantissa, exponent) = (s[..s.IndexOf('E')], s[(s.IndexOf('E') + 1)..]);
            if (!mantissa.Contains('.')) mantissa += ".0";
            if (exponent[0] is not ('+' or '-')) exponent = "+" + exponent;
            return mantissa + "e" + exponent;
        }
        return s.Contains('.') ? s : s + ".0";
    }

    /// <summary>A double-quoted YAML string: backslash, quote and control characters escaped.</summary>
    public static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (char.IsControl(c) || c is '\u2028' or '\u2029' or '\u0085' or '\ufeff') sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
