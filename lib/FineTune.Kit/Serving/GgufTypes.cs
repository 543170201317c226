namespace FineTune.Kit.Serving;

/// <summary>The type tag of a GGUF metadata value (numbers as the format fixes them).</summary>
public enum GgufValueType : uint
{
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 0,
    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 1,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16 = 2,
    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 3,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 4,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 5,
    /// <summary>32-bit float.</summary>
    Float32 = 6,
    /// <summary>Boolean stored as one byte (0 or 1).</summary>
    Bool = 7,
    /// <summary>UTF-8 string: a 64-bit length, then the bytes (no terminator).</summary>
    String = 8,
    /// <summary>Array: an element type, a 64-bit count, then the elements.</summary>
    Array = 9,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64 = 10,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 11,
    /// <summary>64-bit float.</summary>
    Float64 = 12,
}

/// <summary>The element types of GGML tensors the kit writes and reads (numbers as ggml fixes them).</summary>
public enum GgmlType : uint
{
    /// <summary>32-bit float.</summary>
    F32 = 0,
    /// <summary>IEEE half precision.</summary>
    F16 = 1,
    /// <summary>Blocks of 32 values: one f16 scale, then 32 signed bytes.</summary>
    Q8_0 = 8,
}

/// <summary>What an exported model's weights are stored as (<c>--type</c> of <c>ftk export</c>).</summary>
public enum GgufFileType
{
    /// <summary>Every tensor in 32-bit floats.</summary>
    F32 = 0,
    /// <summary>Matrices in half precision; norms and biases stay 32-bit.</summary>
    F16 = 1,
    /// <summary>Matrices quantised to 8 bits in blocks of 32; norms and biases stay 32-bit.</summary>
    Q8_0 = 7,
}

/// <summary>Token kinds in <c>tokenizer.ggml.token_type</c> (SentencePiece's numbering, which GGUF adopted).</summary>
public enum GgufTokenType
{
    /// <summary>An ordinary vocabulary entry.</summary>
    Normal = 1,
    /// <summary>The unknown token.</summary>
    Unknown = 2,
    /// <summary>A control token (BOS, EOS, chat markers): matched in text only when special tokens are parsed.</summary>
    Control = 3,
    /// <summary>An added token matched verbatim in text.</summary>
    UserDefined = 4,
    /// <summary>A slot with no token (padding up to the model's vocabulary size).</summary>
    Unused = 5,
    /// <summary>A byte-fallback piece such as &lt;0x0A&gt;.</summary>
    Byte = 6,
}

/// <summary>Sizes and constants of the GGUF layout.</summary>
public static class Gguf
{
    /// <summary>"GGUF" read as a little-endian 32-bit integer.</summary>
    public const uint Magic = 0x46554747;
    /// <summary>The version the kit writes.</summary>
    public const uint Version = 3;
    /// <summary>Alignment of the tensor data (the format's default; written as <c>general.alignment</c> too).</summary>
    public const int Alignment = 32;
    /// <summary>Values per Q8_0 block.</summary>
    public const int Q8BlockSize = 32;
    /// <summary>Bytes per Q8_0 block: an f16 scale and 32 int8.</summary>
    public const int Q8BlockBytes = 2 + Q8BlockSize;

    /// <summary>Bytes a tensor of this type and element count takes.</summary>
    public static long ByteSize(GgmlType type, long elements) => type switch
    {
        GgmlType.F32 => 4 * elements,
        GgmlType.F16 => 2 * elements,
        GgmlType.Q8_0 => elements % Q8BlockSize == 0
            ? elements / Q8BlockSize * Q8BlockBytes
            : throw new ArgumentException($"Q8_0 needs a multiple of {Q8BlockSize} values, got {elements}."),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a type the kit handles"),
    };

    /// <summary>Rounds up to the next multiple of <paramref name="alignment"/>.</summary>
    public static long Align(long offset, long alignment = Alignment) => (offset + alignment - 1) / alignment * alignment;
}

/// <summary>A model cannot be written as GGUF the way llama.cpp would read it (the message says why).</summary>
public class GgufExportException(string message, Exception? inner = null) : KitException(message, inner);

/// <summary>A GGUF file is malformed or holds something the reader does not handle (the message names the file).</summary>
public class GgufFormatException(string message, Exception? inner = null) : KitException(message, inner);
