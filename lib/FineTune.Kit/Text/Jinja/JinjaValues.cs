using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTune.Kit.Text.Jinja;

/// <summary>A name or key that does not exist: prints as nothing, is false, iterates as empty (Jinja's default).</summary>
public sealed class JinjaUndefined
{
    internal JinjaUndefined(string hint) => Hint = hint;
    /// <summary>What was looked up, for error messages.</summary>
    public string Hint { get; }
    /// <inheritdoc />
    public override string ToString() => "";
}

/// <summary>The object <c>namespace()</c> returns: attributes that <c>{% set ns.x = ... %}</c> may change from a loop.</summary>
internal sealed class JinjaNamespace
{
    public Dictionary<string, object?> Values { get; } = new(StringComparer.Ordinal);
}

/// <summary>A function a template can call: globals, macros and methods bound to a value.</summary>
internal sealed class JinjaCallable(string name, Func<List<object?>, Dictionary<string, object?>, object?> call)
{
    public string Name { get; } = name;
    public object? Invoke(List<object?> args, Dictionary<string, object?> kwargs) => call(args, kwargs);
}

/// <summary>
/// Template values are plain .NET objects: null (None), <see cref="JinjaUndefined"/>, bool, long, double, string,
/// <c>List&lt;object?&gt;</c> (lists and tuples) and <c>Dictionary&lt;string, object?&gt;</c> (mappings, in insertion
/// order). This class holds their Python semantics: truth, str(), equality, ordering and JSON.
/// </summary>
internal static class JinjaValues
{
    public static bool IsUndefined(object? v) => v is JinjaUndefined;

    /// <summary>A string's characters as Python sees them: code points (an emoji is one, not two UTF-16 halves).</summary>
    public static List<object?> CodePoints(string s) => s.EnumerateRunes().Select(r => (object?)r.ToString()).ToList();

    public static bool Truthy(object? v) => v switch
    {
        null or JinjaUndefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> l => l.Count > 0,
        Dictionary<string, object?> d => d.Count > 0,
        _ => true,
    };

    public static string TypeName(object? v) => v switch
    {
        null => "None",
        JinjaUndefined => "undefined",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        Dictionary<string, object?> => "dict",
        JinjaNamespace => "namespace",
        JinjaCallable => "function",
        _ => v.GetType().Name,
    };

    /// <summary>Python's str(): what <c>{{ value }}</c> and <c>~</c> write.</summary>
    public static string Str(object? v) => v switch
    {
        string s => s,
        JinjaUndefined => "",
        _ => Repr(v),
    };

    /// <summary>Python's repr(), used for containers' items.</summary>
    public static string Repr(object? v)
    {
        switch (v)
        {
            case null: return "None";
            case JinjaUndefined: return "";
            case bool b: return b ? "True" : "False";
            case long l: return l.ToString(CultureInfo.InvariantCulture);
            case double d: return FloatRepr(d);
            case string s: return PyStringRepr(s);
            case List<object?> list: return "[" + string.Join(", ", list.Select(Repr)) + "]";
            case Dictionary<string, object?> dict: return "{" + string.Join(", ", dict.Select(kv => PyStringRepr(kv.Key) + ": " + Repr(kv.Value))) + "}";
            case JinjaNamespace ns: return "<Namespace " + string.Join(", ", ns.Values.Select(kv => kv.Key + "=" + Repr(kv.Value))) + ">";
            case JinjaCallable c: return $"<function {c.Name}>";
            default: return v.ToString() ?? "";
        }
    }

    private static string FloatRepr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        var r = d.ToString("R", CultureInfo.InvariantCulture);
        if (r.Contains('E')) return d.ToString("0.0###############e+00", CultureInfo.InvariantCulture);
        return r.Contains('.') ? r : r + ".0";
    }

    private static string PyStringRepr(string s)
    {
        var quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder().Append(quote);
        foreach (var c in s)
            sb.Append(c switch
            {
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when c == quote => "\\" + c,
                _ => c.ToString(),
            });
        return sb.Append(quote).ToString();
    }

    public static bool Equal(object? a, object? b)
    {
        if (a is JinjaUndefined || b is JinjaUndefined) return a is JinjaUndefined && b is JinjaUndefined;
        if (IsNumber(a) && IsNumber(b)) return ToDouble(a) == ToDouble(b);
        return (a, b) switch
        {
            (null, null) => true,
            (string x, string y) => x == y,
            (List<object?> x, List<object?> y) => x.Count == y.Count && x.Zip(y).All(p => Equal(p.First, p.Second)),
            (Dictionary<string, object?> x, Dictionary<string, object?> y) =>
                x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out var o) && Equal(kv.Value, o)),
            _ => ReferenceEquals(a, b),
        };
    }

    // bool counts as a number, as in Python (True == 1).
    public static bool IsNumber(object? v) => v is long or double or bool;

    public static double ToDouble(object? v) => v switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new JinjaRuntimeError($"expected a number, got {TypeName(v)}"),
    };

    public static int Compare(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b)) return ToDouble(a).CompareTo(ToDouble(b));
        if (a is string x && b is string y) return string.CompareOrdinal(x, y);
        if (a is List<object?> p && b is List<object?> q)
        {
            for (var i = 0; i < Math.Min(p.Count, q.Count); i++)
            {
                var c = Compare(p[i], q[i]);
                if (c != 0) return c;
            }
            return p.Count.CompareTo(q.Count);
        }
        throw new JinjaRuntimeError($"cannot compare {TypeName(a)} with {TypeName(b)}");
    }

    /// <summary>
    /// JSON as Python's json.dumps(ensure_ascii=False) writes it (what transformers' tojson does): separators ", " and
    /// ": " without indent, "," and ": " with it; non-ASCII characters are written as they are.
    /// </summary>
    public static string ToJson(object? v, int? indent = null, bool sortKeys = false, (string Item, string Key)? separators = null, bool ensureAscii = false)
    {
        var sb = new StringBuilder();
        var (item, key) = separators ?? (indent is null ? (", ", ": ") : (",", ": "));
        WriteJson(sb, v, indent, 0, sortKeys, item, key, ensureAscii);
        return sb.ToString();
    }

    private static void WriteJson(StringBuilder sb, object? v, int? indent, int depth, bool sortKeys, string item, string key, bool ascii)
    {
        switch (v)
        {
            case null or JinjaUndefined: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d:
                sb.Append(double.IsNaN(d) ? "NaN" : double.IsInfinity(d) ? (d > 0 ? "Infinity" : "-Infinity") : FloatRepr(d));
                break;
            case string s: JsonString(sb, s, ascii); break;
            case List<object?> list:
                WriteContainer(sb, '[', ']', list.Count, indent, depth, item, i => WriteJson(sb, list[i], indent, depth + 1, sortKeys, item, key, ascii));
                break;
            case Dictionary<string, object?> or JinjaNamespace:
                var dict = v as Dictionary<string, object?> ?? ((JinjaNamespace)v).Values;
                var entries = sortKeys ? dict.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList() : dict.ToList();
                WriteContainer(sb, '{', '}', entries.Count, indent, depth, item, i =>
                {
                    JsonString(sb, entries[i].Key, ascii);
                    sb.Append(key);
                    WriteJson(sb, entries[i].Value, indent, depth + 1, sortKeys, item, key, ascii);
                });
                break;
            default: throw new JinjaRuntimeError($"{TypeName(v)} is not JSON serializable");
        }
    }

    private static void WriteContainer(StringBuilder sb, char open, char close, int count, int? indent, int depth, string item, Action<int> writeItem)
    {
        sb.Append(open);
        if (count == 0) { sb.Append(close); return; }
        for (var i = 0; i < count; i++)
        {
            if (i > 0) sb.Append(item);
            if (indent is not null) sb.Append('\n').Append(' ', indent.Value * (depth + 1));
            writeItem(i);
        }
        if (indent is not null) sb.Append('\n').Append(' ', indent.Value * depth);
        sb.Append(close);
    }

    private static void JsonString(StringBuilder sb, string s, bool ascii)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || (ascii && c > 0x7e)) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>Converts parsed JSON (a messages file, tool schemas) to template values.</summary>
    public static object? FromJson(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToDictionary(kv => kv.Key, kv => FromJson(kv.Value), StringComparer.Ordinal),
        JsonArray a => a.Select(FromJson).ToList(),
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => long.TryParse(v.ToJsonString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? (object)l : v.GetValue<double>(),
            _ => null,
        },
        _ => null,
    };

    /// <summary>Converts .NET values a caller passes (ints, string lists, dictionaries) to template values.</summary>
    public static object? FromDotNet(object? v) => v switch
    {
        null or string or bool or long or double or JinjaUndefined or JinjaNamespace or JinjaCallable => v,
        int i => (long)i,
        float f => (double)f,
        JsonNode n => FromJson(n),
        JsonElement e => FromJson(JsonNode.Parse(e.GetRawText())),
        System.Collections.IDictionary d => d.Keys.Cast<object>().ToDictionary(k => k.ToString()!, k => FromDotNet(d[k]), StringComparer.Ordinal),
        System.Collections.IEnumerable e => e.Cast<object?>().Select(FromDotNet).ToList(),
        _ => throw new ArgumentException($"a {v.GetType().Name} cannot be passed to a chat template (use strings, numbers, lists and dictionaries)"),
    };
}
