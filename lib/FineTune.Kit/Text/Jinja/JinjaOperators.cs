namespace FineTune.Kit.Text.Jinja;

/// <summary>Binary operators with Python's meaning: numbers, string and list concatenation, membership, comparison.</summary>
internal static class JinjaOperators
{
    public static object? Binary(string op, object? a, object? b)
    {
        switch (op)
        {
            case "==": return JinjaValues.Equal(a, b);
            case "!=": return !JinjaValues.Equal(a, b);
            case "~": return JinjaValues.Str(a) + JinjaValues.Str(b);
            case "in": return Contains(b, a);
            case "not in": return !Contains(b, a);
            case "<": return JinjaValues.Compare(a, b) < 0;
            case "<=": return JinjaValues.Compare(a, b) <= 0;
            case ">": return JinjaValues.Compare(a, b) > 0;
            case ">=": return JinjaValues.Compare(a, b) >= 0;
        }
        if (a is JinjaUndefined ua) throw new JinjaRuntimeError($"'{ua.Hint}' is undefined");
        if (b is JinjaUndefined ub) throw new JinjaRuntimeError($"'{ub.Hint}' is undefined");
        switch (op, a, b)
        {
            case ("+", string x, string y): return x + y;
            case ("+", List<object?> x, List<object?> y): return x.Concat(y).ToList();
            case ("*", string s, long n): return string.Concat(Enumerable.Repeat(s, (int)Math.Max(0, n)));
            case ("*", long n, string s): return string.Concat(Enumerable.Repeat(s, (int)Math.Max(0, n)));
            case ("*", List<object?> l, long n): return Enumerable.Repeat(l, (int)Math.Max(0, n)).SelectMany(x => x).ToList();
        }
        if (!JinjaValues.IsNumber(a) || !JinjaValues.IsNumber(b))
            throw new JinjaRuntimeError($"unsupported operand types {JinjaValues.TypeName(a)} and {JinjaValues.TypeName(b)}");
        var integral = a is long or bool && b is long or bool;
        if (integral)
        {
            long x = (long)JinjaValues.ToDouble(a), y = (long)JinjaValues.ToDouble(b);
            switch (op)
            {
                case "+": return x + y;
                case "-": return x - y;
                case "*": return x * y;
                case "/": if (y == 0) throw new JinjaRuntimeError("division by zero"); return (double)x / y;
                case "//": if (y == 0) throw new JinjaRuntimeError("division by zero"); return (long)Math.Floor((double)x / y);
                case "%": if (y == 0) throw new JinjaRuntimeError("modulo by zero"); return ((x % y) + y) % y;
                case "**": return y >= 0 ? (object)(long)Math.Pow(x, y) : Math.Pow(x, y);
            }
        }
        double p = JinjaValues.ToDouble(a), q = JinjaValues.ToDouble(b);
        return op switch
        {
            "+" => p + q,
            "-" => p - q,
            "*" => p * q,
            "/" => q == 0 ? throw new JinjaRuntimeError("division by zero") : p / q,
            "//" => q == 0 ? throw new JinjaRuntimeError("division by zero") : Math.Floor(p / q),
            "%" => q == 0 ? throw new JinjaRuntimeError("modulo by zero") : p - q * Math.Floor(p / q),
            "**" => Math.Pow(p, q),
            _ => throw new JinjaRuntimeError($"unknown operator '{op}'"),
        };
    }

    public static bool Contains(object? container, object? item) => container switch
    {
        string s when item is string sub => s.Contains(sub, StringComparison.Ordinal),
        string => throw new JinjaRuntimeError($"'in <string>' needs a string on the left, got {JinjaValues.TypeName(item)}"),
        List<object?> l => l.Any(x => JinjaValues.Equal(x, item)),
        Dictionary<string, object?> d => item is string k && d.ContainsKey(k),
        JinjaNamespace ns => item is string k && ns.Values.ContainsKey(k),
        JinjaUndefined u => throw new JinjaRuntimeError($"'{u.Hint}' is undefined, membership cannot be tested"),
        _ => throw new JinjaRuntimeError($"{JinjaValues.TypeName(container)} does not support 'in'"),
    };
}
