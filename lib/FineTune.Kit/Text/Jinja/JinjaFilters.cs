using System.Globalization;
using System.Net;

namespace FineTune.Kit.Text.Jinja;

/// <summary>The filters of <c>x | name(args)</c>: Jinja's built-ins that chat templates use, with Python's meaning.</summary>
internal static class JinjaFilters
{
    public static readonly string[] Names =
    [
        "trim", "tojson", "length", "count", "upper", "lower", "title", "capitalize", "replace", "default", "d", "join",
        "list", "first", "last", "reverse", "sort", "unique", "selectattr", "rejectattr", "select", "reject", "map",
        "items", "dictsort", "string", "int", "float", "abs", "round", "sum", "min", "max", "indent", "safe", "escape",
        "e", "attr", "wordcount", "batch",
    ];

    public static object? Apply(string name, object? v, List<object?> args, Dictionary<string, object?> kwargs, JinjaInterpreter interp, Scope scope)
    {
        object? Arg(int i, string key, object? dflt) =>
            i >= 0 && i < args.Count ? args[i] : kwargs.TryGetValue(key, out var k) ? k : dflt;
        string Text(string what) => v switch
        {
            string s => s,
            JinjaUndefined u => throw new JinjaRuntimeError($"'{u.Hint}' is undefined"),
            _ => JinjaValues.Str(v),
        };

        switch (name)
        {
            case "safe": return v;
            case "trim":
                return Arg(0, "chars", null) is string chars ? Text(name).Trim(chars.ToCharArray()) : Text(name).Trim();
            case "tojson":
            {
                var indent = Arg(0, "indent", null);
                var seps = Arg(-1, "separators", null) as List<object?>;
                return JinjaValues.ToJson(v is JinjaUndefined ? null : v,
                    indent is long n ? (int)n : indent is null ? null : throw new JinjaRuntimeError("indent must be an integer"),
                    JinjaValues.Truthy(Arg(-1, "sort_keys", false)),
                    seps is { Count: 2 } ? (JinjaValues.Str(seps[0]), JinjaValues.Str(seps[1])) : null,
                    JinjaValues.Truthy(Arg(-1, "ensure_ascii", false)));
            }
            case "length" or "count":
                return v switch
                {
                    string s => (long)JinjaValues.CodePoints(s).Count,
                    List<object?> l => (long)l.Count,
                    Dictionary<string, object?> d => (long)d.Count,
                    JinjaUndefined => 0L,
                    _ => throw new JinjaRuntimeError($"{JinjaValues.TypeName(v)} has no length"),
                };
            case "upper": return Text(name).ToUpperInvariant();
            case "lower": return Text(name).ToLowerInvariant();
            case "capitalize": { var s = Text(name); return s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant(); }
            case "title": return JinjaMethods.Title(Text(name));
            case "replace":
            {
                var count = Arg(2, "count", null);
                return JinjaMethods.Replace(Text(name), JinjaValues.Str(Arg(0, "old", "")), JinjaValues.Str(Arg(1, "new", "")), count is long c ? c : -1);
            }
            case "default" or "d":
            {
                var boolean = JinjaValues.Truthy(Arg(1, "boolean", false));
                return v is JinjaUndefined || (boolean && !JinjaValues.Truthy(v)) ? Arg(0, "default_value", "") : v;
            }
            case "join":
            {
                var sep = JinjaValues.Str(Arg(0, "d", ""));
                var attribute = Arg(1, "attribute", null);
                var items = JinjaInterpreter.Iterate(v, "join");
                if (attribute is not null) items = items.Select(i => Lookup(i, attribute)).ToList();
                return string.Join(sep, items.Select(JinjaValues.Str));
            }
            case "list": return JinjaInterpreter.Iterate(v, "list").ToList();
            case "first": { var l = JinjaInterpreter.Iterate(v, "first"); return l.Count > 0 ? l[0] : new JinjaUndefined("first of an empty sequence"); }
            case "last": { var l = JinjaInterpreter.Iterate(v, "last"); return l.Count > 0 ? l[^1] : new JinjaUndefined("last of an empty sequence"); }
            case "reverse": return v is string rs ? string.Concat(JinjaValues.CodePoints(rs).AsEnumerable().Reverse()) : JinjaInterpreter.Iterate(v, "reverse").AsEnumerable().Reverse().ToList();
            case "sort":
            {
                var reverse = JinjaValues.Truthy(Arg(0, "reverse", false));
                var caseSensitive = JinjaValues.Truthy(Arg(1, "case_sensitive", false));
                var attribute = Arg(2, "attribute", null);
                object? Key(object? x)
                {
                    var k = attribute is null ? x : Lookup(x, attribute);
                    return !caseSensitive && k is string s ? s.ToLowerInvariant() : k;
                }
                var sorted = JinjaInterpreter.Iterate(v, "sort").Order(Comparer<object?>.Create((a, b) => JinjaValues.Compare(Key(a), Key(b)))).ToList();
                if (reverse) sorted.Reverse();
                return sorted;
            }
            case "unique":
            {
                var result = new List<object?>();
                foreach (var x in JinjaInterpreter.Iterate(v, "unique"))
                    if (!result.Any(r => JinjaValues.Equal(r, x))) result.Add(x);
                return result;
            }
            case "selectattr" or "rejectattr":
            {
                if (args.Count == 0) throw new JinjaRuntimeError("needs an attribute name");
                var keep = name == "selectattr";
                return JinjaInterpreter.Iterate(v, name).Where(x => Check(Lookup(x, args[0]), args.Skip(1).ToList()) == keep).ToList();
            }
            case "select" or "reject":
            {
                var keep = name == "select";
                return JinjaInterpreter.Iterate(v, name).Where(x => Check(x, args) == keep).ToList();
            }
            case "map":
            {
                var items = JinjaInterpreter.Iterate(v, "map");
                if (kwargs.TryGetValue("attribute", out var attribute))
                {
                    var dflt = kwargs.GetValueOrDefault("default");
                    return items.Select(x => Lookup(x, attribute) is var r && r is JinjaUndefined && kwargs.ContainsKey("default") ? dflt : r).ToList();
                }
                if (args.Count == 0 || args[0] is not string filter) throw new JinjaRuntimeError("needs attribute=NAME or a filter name");
                var rest = args.Skip(1).ToList();
                return items.Select(x => Apply(filter, x, rest, new Dictionary<string, object?>(kwargs), interp, scope)).ToList();
            }
            case "items":
                return v switch
                {
                    Dictionary<string, object?> d => d.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList(),
                    JinjaUndefined => new List<object?>(),
                    _ => throw new JinjaRuntimeError($"needs a mapping, got {JinjaValues.TypeName(v)}"),
                };
            case "dictsort":
            {
                if (v is not Dictionary<string, object?> d) throw new JinjaRuntimeError($"needs a mapping, got {JinjaValues.TypeName(v)}");
                var byValue = Arg(1, "by", "key") is "value";
                var caseSensitive = JinjaValues.Truthy(Arg(0, "case_sensitive", false));
                object? Norm(object? x) => !caseSensitive && x is string s ? s.ToLowerInvariant() : x;
                var sorted = d.Order(Comparer<KeyValuePair<string, object?>>.Create((a, b) =>
                    byValue ? JinjaValues.Compare(Norm(a.Value), Norm(b.Value)) : JinjaValues.Compare(Norm(a.Key), Norm(b.Key)))).ToList();
                if (JinjaValues.Truthy(Arg(2, "reverse", false))) sorted.Reverse();
                return sorted.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList();
            }
            case "string": return JinjaValues.Str(v);
            case "int":
                return v switch
                {
                    long l => l,
                    double f => (long)Math.Truncate(f),
                    bool b => b ? 1L : 0L,
                    string s when long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
                    string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var f) => (long)Math.Truncate(f),
                    _ => Arg(0, "default", 0L),
                };
            case "float":
                return v switch
                {
                    long l => (double)l,
                    double f => f,
                    bool b => b ? 1.0 : 0.0,
                    string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var f) => f,
                    _ => Arg(0, "default", 0.0),
                };
            case "abs": return v is long al ? (object)Math.Abs(al) : Math.Abs(JinjaValues.ToDouble(v));
            case "round":
            {
                var precision = (int)(Arg(0, "precision", 0L) as long? ?? 0);
                var method = Arg(1, "method", "common") as string;
                var x = JinjaValues.ToDouble(v);
                var scale = Math.Pow(10, precision);
                return method switch
                {
                    "ceil" => Math.Ceiling(x * scale) / scale,
                    "floor" => Math.Floor(x * scale) / scale,
                    _ => Math.Round(x, precision, MidpointRounding.AwayFromZero),
                };
            }
            case "sum":
            {
                var attribute = Arg(0, "attribute", null);
                object? total = Arg(1, "start", 0L);
                foreach (var x in JinjaInterpreter.Iterate(v, "sum"))
                    total = JinjaOperators.Binary("+", total, attribute is null ? x : Lookup(x, attribute));
                return total;
            }
            case "min" or "max":
            {
                var items = JinjaInterpreter.Iterate(v, name);
                if (items.Count == 0) return new JinjaUndefined($"{name} of an empty sequence");
                var best = items[0];
                foreach (var x in items.Skip(1))
                    if ((JinjaValues.Compare(x, best) < 0) == (name == "min") && !JinjaValues.Equal(x, best)) best = x;
                return best;
            }
            case "indent":
            {
                var width = Arg(0, "width", 4L);
                var pad = width is string ws ? ws : new string(' ', (int)(width as long? ?? 4));
                var first = JinjaValues.Truthy(Arg(1, "first", false));
                var blank = JinjaValues.Truthy(Arg(2, "blank", false));
                var lines = Text(name).Split('\n');
                for (var i = 0; i < lines.Length; i++)
                    if ((i > 0 || first) && (blank || lines[i].Length > 0)) lines[i] = pad + lines[i];
                return string.Join('\n', lines);
            }
            case "escape" or "e": return WebUtility.HtmlEncode(Text(name)).Replace("&#39;", "&#39;");
            case "attr": return JinjaInterpreter.GetAttribute(v, JinjaValues.Str(Arg(0, "name", "")), "value");
            case "wordcount": return (long)Text(name).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
            case "batch":
            {
                var size = Arg(0, "linecount", null) as long? ?? throw new JinjaRuntimeError("needs a batch size");
                var items = JinjaInterpreter.Iterate(v, "batch");
                return items.Chunk((int)size).Select(c => (object?)c.ToList()).ToList();
            }
            default:
                throw new JinjaRuntimeError($"unknown filter (supported: {string.Join(", ", Names)})");
        }
    }

    // selectattr("x") keeps truthy attributes; selectattr("x", "equalto", 1) applies the named test.
    private static bool Check(object? value, List<object?> testAndArgs)
    {
        if (testAndArgs.Count == 0) return JinjaValues.Truthy(value);
        var test = testAndArgs[0] as string ?? throw new JinjaRuntimeError("the test name must be a string");
        return JinjaTests.Apply(test, value, testAndArgs.Skip(1).ToList());
    }

    // An attribute path as selectattr/map/sort take it: "a", "a.b", or an integer index.
    private static object? Lookup(object? item, object? path)
    {
        if (path is long index) return JinjaInterpreter.GetItem(item, index, "item");
        var current = item;
        foreach (var part in JinjaValues.Str(path).Split('.'))
        {
            if (current is JinjaUndefined) return current;
            current = long.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) && current is List<object?>
                ? JinjaInterpreter.GetItem(current, i, "item")
                : current is Dictionary<string, object?> d ? (d.TryGetValue(part, out var v) ? v : new JinjaUndefined(part))
                : JinjaInterpreter.GetAttribute(current, part, "item");
        }
        return current;
    }
}
