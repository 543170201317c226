namespace FineTune.Kit.Text.Jinja;

/// <summary>The tests of <c>x is name</c>: Jinja's built-in ones that chat templates use.</summary>
internal static class JinjaTests
{
    public static readonly string[] Names =
    [
        "defined", "undefined", "none", "string", "number", "integer", "float", "boolean", "true", "false", "mapping",
        "iterable", "sequence", "callable", "odd", "even", "divisibleby", "eq", "equalto", "==", "ne", "!=", "lt", "<",
        "le", "<=", "gt", ">", "ge", ">=", "in", "sameas", "lower", "upper",
    ];

    public static bool Apply(string name, object? v, List<object?> args)
    {
        object? Arg() => args.Count > 0 ? args[0] : throw new JinjaRuntimeError("needs one argument");
        return name switch
        {
            "defined" => v is not JinjaUndefined,
            "undefined" => v is JinjaUndefined,
            "none" => v is null,
            "string" => v is string,
            "number" => v is long or double,
            "integer" => v is long,
            "float" => v is double,
            "boolean" => v is bool,
            "true" => v is true,
            "false" => v is false,
            "mapping" => v is Dictionary<string, object?>,
            "iterable" => v is string or List<object?> or Dictionary<string, object?>,
            "sequence" => v is string or List<object?> or Dictionary<string, object?>,
            "callable" => v is JinjaCallable,
            "odd" => v is long l1 ? l1 % 2 != 0 : throw new JinjaRuntimeError($"needs an integer, got {JinjaValues.TypeName(v)}"),
            "even" => v is long l2 ? l2 % 2 == 0 : throw new JinjaRuntimeError($"needs an integer, got {JinjaValues.TypeName(v)}"),
            "divisibleby" => Arg() is long d && v is long n ? d != 0 && n % d == 0 : throw new JinjaRuntimeError("needs integers"),
            "eq" or "equalto" or "==" => JinjaValues.Equal(v, Arg()),
            "ne" or "!=" => !JinjaValues.Equal(v, Arg()),
            "lt" or "<" => JinjaValues.Compare(v, Arg()) < 0,
            "le" or "<=" => JinjaValues.Compare(v, Arg()) <= 0,
            "gt" or ">" => JinjaValues.Compare(v, Arg()) > 0,
            "ge" or ">=" => JinjaValues.Compare(v, Arg()) >= 0,
            "in" => JinjaOperators.Contains(Arg(), v),
            "sameas" => ReferenceEquals(v, Arg()) || (v is null && Arg() is null) || (v is bool a && Arg() is bool b && a == b),
            "lower" => v is string s1 && s1 == s1.ToLowerInvariant(),
            "upper" => v is string s2 && s2 == s2.ToUpperInvariant(),
            _ => throw new JinjaRuntimeError($"unknown test (supported: {string.Join(", ", Names)})"),
        };
    }
}
