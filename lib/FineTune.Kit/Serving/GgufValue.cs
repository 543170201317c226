using System.Globalization;

namespace FineTune.Kit.Serving;

/// <summary>
/// One typed GGUF metadata value. Scalars hold their .NET value (uint, int, float, bool, string, ulong, …); arrays hold
/// a .NET array of the element type (string[], int[], float[], …).
/// </summary>
public sealed record GgufValue
{
    private GgufValue(GgufValueType type, object value, GgufValueType? elementType = null)
    {
        Type = type;
        Value = value;
        ElementType = elementType;
    }

    /// <summary>The value's type tag.</summary>
    public GgufValueType Type { get; }
    /// <summary>For arrays, the type of the elements.</summary>
    public GgufValueType? ElementType { get; }
    /// <summary>The value: a scalar, or an array of the element type.</summary>
    public object Value { get; }

    /// <summary>An unsigned 32-bit integer.</summary>
    public static GgufValue UInt32(uint v) => new(GgufValueType.UInt32, v);
    /// <summary>A signed 32-bit integer.</summary>
    public static GgufValue Int32(int v) => new(GgufValueType.Int32, v);
    /// <summary>An unsigned 64-bit integer.</summary>
    public static GgufValue UInt64(ulong v) => new(GgufValueType.UInt64, v);
    /// <summary>A 32-bit float.</summary>
    public static GgufValue Float32(float v) => new(GgufValueType.Float32, v);
    /// <summary>A boolean.</summary>
    public static GgufValue Bool(bool v) => new(GgufValueType.Bool, v);
    /// <summary>A string.</summary>
    public static GgufValue String(string v) => new(GgufValueType.String, v);
    /// <summary>An array of strings.</summary>
    public static GgufValue Strings(IEnumerable<string> v) => new(GgufValueType.Array, v.ToArray(), GgufValueType.String);
    /// <summary>An array of signed 32-bit integers.</summary>
    public static GgufValue Int32s(IEnumerable<int> v) => new(GgufValueType.Array, v.ToArray(), GgufValueType.Int32);
    /// <summary>An array of 32-bit floats.</summary>
    public static GgufValue Float32s(IEnumerable<float> v) => new(GgufValueType.Array, v.ToArray(), GgufValueType.Float32);

    /// <summary>A value of any type, as read from a file (the reader builds these).</summary>
    internal static GgufValue Of(GgufValueType type, object value, GgufValueType? elementType = null) => new(type, value, elementType);

    /// <summary>The value as a string (scalar strings only).</summary>
    public string AsString() => Value as string ?? throw new InvalidCastException($"GGUF value of type {Type} is not a string.");
    /// <summary>The value as a 64-bit integer (any integer scalar).</summary>
    public long AsInt64() => Value switch
    {
        byte b => b, sbyte sb => sb, ushort us => us, short s => s, uint u => u, int i => i, ulong ul => checked((long)ul), long l => l,
        _ => throw new InvalidCastException($"GGUF value of type {Type} is not an integer."),
    };
    /// <summary>The value as a double (any number scalar).</summary>
    public double AsDouble() => Value switch { float f => f, double d => d, _ => AsInt64() };
    /// <summary>The value as a boolean.</summary>
    public bool AsBool() => Value is bool b ? b : throw new InvalidCastException($"GGUF value of type {Type} is not a bool.");
    /// <summary>The elements of a string array.</summary>
    public string[] AsStrings() => Value as string[] ?? throw new InvalidCastException($"GGUF value of type {Type} is not a string array.");

    /// <inheritdoc />
    public override string ToString() => Value switch
    {
        string s => s.Length > 60 ? $"\"{s[..57]}…\"" : $"\"{s}\"",
        Array a => $"[{ElementType} × {a.Length}]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => Value.ToString() ?? "",
    };
}
