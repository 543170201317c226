using System.Globalization;
using System.Text;

namespace FineTune.Kit.Text.Jinja;

/// <summary>The functions every chat template can call: those of Jinja and the two transformers adds.</summary>
internal static class JinjaGlobals
{
    public static void AddTo(Scope scope, DateTime now)
    {
        scope.Set("raise_exception", new JinjaCallable("raise_exception", (a, _) =>
            throw new JinjaRuntimeError($"the template raised an error: {(a.Count > 0 ? JinjaValues.Str(a[0]) : "")}")));
        scope.Set("strftime_now", new JinjaCallable("strftime_now", (a, _) =>
            Strftime(now, a.Count > 0 && a[0] is string f ? f : throw new JinjaRuntimeError("strftime_now needs a format string"))));
        scope.Set("range", new JinjaCallable("range", (a, _) => Range(a)));
        scope.Set("namespace", new JinjaCallable("namespace", (a, k) =>
        {
            var ns = new JinjaNamespace();
            if (a.Count > 0 && a[0] is Dictionary<string, object?> init)
                foreach (var (key, v) in init) ns.Values[key] = v;
            foreach (var (key, v) in k) ns.Values[key] = v;
            return ns;
        }));
        scope.Set("dict", new JinjaCallable("dict", (a, k) =>
        {
            var d = a.Count > 0 && a[0] is Dictionary<string, object?> init ? new Dictionary<string, object?>(init, StringComparer.Ordinal) : new(StringComparer.Ordinal);
            foreach (var (key, v) in k) d[key] = v;
            return d;
        }));
    }

    private static List<object?> Range(List<object?> a)
    {
        long N(int i) => a[i] as long? ?? throw new JinjaRuntimeError("range() takes integers");
        var (start, stop, step) = a.Count switch
        {
            1 => (0L, N(0), 1L),
            2 => (N(0), N(1), 1L),
            3 => (N(0), N(1), N(2)),
            _ => throw new JinjaRuntimeError("range() takes 1 to 3 integers"),
        };
        if (step == 0) throw new JinjaRuntimeError("range() step cannot be zero");
        var result = new List<object?>();
        for (var i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            result.Add(i);
            if (result.Count > 1_000_000) throw new JinjaRuntimeError("range() longer than a million items");
        }
        return result;
    }

    /// <summary>C's strftime for the directives date-stamping templates use (%d %b %Y and friends).</summary>
    public static string Strftime(DateTime t, string format)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length) { sb.Append(format[i]); continue; }
            var d = format[++i];
            sb.Append(d switch
            {
                'd' => t.ToString("dd", inv),
                '-' when i + 1 < format.Length => format[++i] switch
                {
                    'd' => t.Day.ToString(inv),
                    'm' => t.Month.ToString(inv),
                    'H' => t.Hour.ToString(inv),
                    'I' => (t.Hour % 12 == 0 ? 12 : t.Hour % 12).ToString(inv),
                    'M' => t.Minute.ToString(inv),
                    'S' => t.Second.ToString(inv),
                    var x => throw new JinjaRuntimeError($"strftime directive '%-{x}' is not supported"),
                },
                'm' => t.ToString("MM", inv),
                'Y' => t.ToString("yyyy", inv),
                'y' => t.ToString("yy", inv),
                'b' => t.ToString("MMM", inv),
                'B' => t.ToString("MMMM", inv),
                'a' => t.ToString("ddd", inv),
                'A' => t.ToString("dddd", inv),
                'H' => t.ToString("HH", inv),
                'I' => t.ToString("hh", inv),
                'M' => t.ToString("mm", inv),
                'S' => t.ToString("ss", inv),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'j' => t.DayOfYear.ToString("000", inv),
                'e' => t.Day.ToString(inv).PadLeft(2),
                '%' => "%",
                _ => throw new JinjaRuntimeError($"strftime directive '%{d}' is not supported"),
            });
        }
        return sb.ToString();
    }
}
