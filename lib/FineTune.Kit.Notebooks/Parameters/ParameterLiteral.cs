using System.Globalization;
using Microsoft.CodeAnalysis.CSharp;

namespace FineTune.Kit.Notebooks.Parameters;

/// <summary>Turns a command-line value (`-p steps=20`) into a C# literal of the parameter's declared type.</summary>
public static class ParameterLiteral
{
    /// <summary>The types a parameter may have (nullable forms allowed too).</summary>
    public static readonly IReadOnlyList<string> SupportedTypes =
        ["string", "bool", "int", "long", "short", "byte", "uint", "ulong", "float", "double", "decimal", "char"];

    private static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["String"] = "string", ["Boolean"] = "bool", ["Int32"] = "int", ["Int64"] = "long", ["Int16"] = "short",
        ["Byte"] = "byte", ["UInt32"] = "uint", ["UInt64"] = "ulong", ["Single"] = "float", ["Double"] = "double",
        ["Decimal"] = "decimal", ["Char"] = "char",
    };

    /// <summary>
    /// The C# literal for <paramref name="value"/> as <paramref name="type"/>; a value that does not parse as the
    /// type, or a type that cannot be set from the command line, is a <see cref="NotebookException"/>.
    /// </summary>
    public static string For(string type, string value, string name)
    {
        var nullable = type.EndsWith('?');
        var bare = type.TrimEnd('?').Replace("System.", "", StringComparison.Ordinal);
        bare = Aliases.GetValueOrDefault(bare, bare);
        if (!SupportedTypes.Contains(bare))
            throw new NotebookException(
                $"parameter '{name}' is declared as {type}; -p can set {string.Join(", ", SupportedTypes)} (or var with such a literal)");
        if (value == "null" && (nullable || bare == "string")) return "null";
        var inv = CultureInfo.InvariantCulture;
        string? literal = bare switch
        {
            "string" => SymbolDisplay.FormatLiteral(value, quote: true),
            "char" => value.Length == 1 ? SymbolDisplay.FormatLiteral(value[0], quote: true) : null,
            "bool" => bool.TryParse(value, out var b) ? (b ? "true" : "false") : null,
            "int" => int.TryParse(value, NumberStyles.Integer, inv, out var i) ? i.ToString(inv) : null,
            "long" => long.TryParse(value, NumberStyles.Integer, inv, out var l) ? l.ToString(inv) + "L" : null,
            "short" => short.TryParse(value, NumberStyles.Integer, inv, out var s) ? $"(short){s.ToString(inv)}" : null,
            "byte" => byte.TryParse(value, NumberStyles.Integer, inv, out var y) ? $"(byte){y.ToString(inv)}" : null,
            "uint" => uint.TryParse(value, NumberStyles.Integer, inv, out var u) ? u.ToString(inv) + "U" : null,
            "ulong" => ulong.TryParse(value, NumberStyles.Integer, inv, out var ul) ? ul.ToString(inv) + "UL" : null,
            "double" => double.TryParse(value, NumberStyles.Float, inv, out var d) ? Real(d, d.ToString("R", inv), "d", "double") : null,
            "float" => float.TryParse(value, NumberStyles.Float, inv, out var f) ? Real(f, f.ToString("R", inv), "f", "float") : null,
            "decimal" => decimal.TryParse(value, NumberStyles.Float, inv, out var m) ? m.ToString(inv) + "m" : null,
            _ => null,
        };
        return literal ?? throw new NotebookException($"parameter '{name}' is {type}; '{value}' is not a valid {bare}");
    }

    private static string Real(double v, string text, string suffix, string type) =>
        double.IsNaN(v) ? $"{type}.NaN"
        : double.IsPositiveInfinity(v) ? $"{type}.PositiveInfinity"
        : double.IsNegativeInfinity(v) ? $"{type}.NegativeInfinity"
        : text + suffix;
}
