using System.Text;

namespace FineTune.Kit.Text.Jinja;

/// <summary>
/// Methods templates call on values, with Python's meaning: <c>str.strip/split/startswith/...</c> and
/// <c>dict.items/keys/values/get</c>. Mutating methods (<c>list.append</c>) are not offered, as in the sandbox
/// transformers renders with.
/// </summary>
internal static class JinjaMethods
{
    public static JinjaCallable? Bind(object? target, string name) => target switch
    {
        string s => StringMethod(s, name),
        Dictionary<string, object?> d => DictMethod(d, name),
        _ => null,
    };

    private static JinjaCallable? DictMethod(Dictionary<string, object?> d, string name) => name switch
    {
        "items" => new(name, (_, _) => d.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList()),
        "keys" => new(name, (_, _) => d.Keys.Cast<object?>().ToList()),
        "values" => new(name, (_, _) => d.Values.ToList()),
        "get" => new(name, (a, _) => a.Count > 0 && a[0] is string k && d.TryGetValue(k, out var v) ? v : a.Count > 1 ? a[1] : null),
        _ => null,
    };

    private static JinjaCallable? StringMethod(string s, string name)
    {
        static string? Chars(List<object?> a) => a.Count > 0 ? a[0] as string : null;
        static string Need(List<object?> a, int i, string method) =>
            i < a.Count && a[i] is string x ? x : throw new JinjaRuntimeError($"str.{method}() needs a string argument");
        return name switch
        {
            "strip" => new(name, (a, _) => Chars(a) is { } c ? s.Trim(c.ToCharArray()) : s.Trim()),
            "lstrip" => new(name, (a, _) => Chars(a) is { } c ? s.TrimStart(c.ToCharArray()) : s.TrimStart()),
            "rstrip" => new(name, (a, _) => Chars(a) is { } c ? s.TrimEnd(c.ToCharArray()) : s.TrimEnd()),
            "upper" => new(name, (_, _) => s.ToUpperInvariant()),
            "lower" => new(name, (_, _) => s.ToLowerInvariant()),
            "title" => new(name, (_, _) => Title(s)),
            "capitalize" => new(name, (_, _) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant()),
            "startswith" => new(name, (a, _) => Affix(s, a, name, (x, p) => x.StartsWith(p, StringComparison.Ordinal))),
            "endswith" => new(name, (a, _) => Affix(s, a, name, (x, p) => x.EndsWith(p, StringComparison.Ordinal))),
            "split" => new(name, (a, k) => Split(s, a.Count > 0 ? a[0] : k.GetValueOrDefault("sep"), a.Count > 1 ? a[1] : k.GetValueOrDefault("maxsplit", -1L), fromRight: false)),
            "rsplit" => new(name, (a, k) => Split(s, a.Count > 0 ? a[0] : k.GetValueOrDefault("sep"), a.Count > 1 ? a[1] : k.GetValueOrDefault("maxsplit", -1L), fromRight: true)),
            "splitlines" => new(name, (_, _) => s.Split('\n').Select(l => (object?)l.TrimEnd('\r')).ToList() is var ls && s.EndsWith('\n') ? ls.SkipLast(1).ToList() : s.Length == 0 ? [] : ls),
            "replace" => new(name, (a, k) => Replace(s, Need(a, 0, name), Need(a, 1, name), (a.Count > 2 ? a[2] : k.GetValueOrDefault("count")) as long? ?? -1)),
            "join" => new(name, (a, _) => string.Join(s, JinjaInterpreter.Iterate(a.Count > 0 ? a[0] : null, "str.join").Select(JinjaValues.Str))),
            "find" => new(name, (a, _) => (long)s.IndexOf(Need(a, 0, name), StringComparison.Ordinal)),
            "count" => new(name, (a, _) => { var p = Need(a, 0, name); return p.Length == 0 ? s.Length + 1L : (long)((s.Length - s.Replace(p, "").Length) / p.Length); }),
            "isdigit" => new(name, (_, _) => s.Length > 0 && s.All(char.IsDigit)),
            "isspace" => new(name, (_, _) => s.Length > 0 && s.All(char.IsWhiteSpace)),
            _ => null,
        };
    }

    private static bool Affix(string s, List<object?> a, string method, Func<string, string, bool> test) => a.Count > 0 ? a[0] switch
    {
        string p => test(s, p),
        List<object?> options => options.Any(o => o is string p && test(s, p)),
        _ => throw new JinjaRuntimeError($"str.{method}() needs a string or a tuple of strings"),
    } : throw new JinjaRuntimeError($"str.{method}() needs an argument");

    private static List<object?> Split(string s, object? sep, object? maxsplit, bool fromRight)
    {
        var max = maxsplit as long? ?? -1;
        List<string> parts;
        if (sep is null or JinjaUndefined)
        {
            parts = s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).ToList();
            if (max >= 0 && parts.Count > max + 1)
            {
                // Python keeps the unsplit rest (from its first non-space character) as the last part
                var rest = s.TrimStart();
                var head = new List<string>();
                for (var i = 0; i < max; i++)
                {
                    var end = rest.IndexOfAny([' ', '\t', '\n', '\r', '\f', '\v']);
                    head.Add(rest[..end]);
                    rest = rest[end..].TrimStart();
                }
                head.Add(rest);
                parts = head;
            }
        }
        else
        {
            var sepText = sep as string ?? throw new JinjaRuntimeError("str.split() separator must be a string");
            if (sepText.Length == 0) throw new JinjaRuntimeError("str.split(): empty separator");
            parts = s.Split(sepText).ToList();
            if (max >= 0 && parts.Count > max + 1)
                parts = fromRight
                    ? [string.Join(sepText, parts.Take(parts.Count - (int)max)), .. parts.Skip(parts.Count - (int)max)]
                    : [.. parts.Take((int)max), string.Join(sepText, parts.Skip((int)max))];
        }
        return parts.Cast<object?>().ToList();
    }

    public static string Replace(string s, string old, string replacement, long count)
    {
        if (count < 0) return old.Length == 0 ? string.Join(replacement, s.Select(c => c.ToString()).Prepend("").Append("")) : s.Replace(old, replacement, StringComparison.Ordinal);
        var sb = new StringBuilder();
        var at = 0;
        for (var n = 0; n < count; n++)
        {
            var i = s.IndexOf(old, at, StringComparison.Ordinal);
            if (i < 0 || old.Length == 0) break;
            sb.Append(s, at, i - at).Append(replacement);
            at = i + old.Length;
        }
        return sb.Append(s, at, s.Length - at).ToString();
    }

    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        var prevLetter = false;
        foreach (var c in s)
        {
            sb.Append(prevLetter ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            prevLetter = char.IsLetter(c);
        }
        return sb.ToString();
    }
}
