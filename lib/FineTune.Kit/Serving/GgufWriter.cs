using System.Text;
using FineTune.Kit.Io;

namespace FineTune.Kit.Serving;

/// <summary>
/// A tensor to write: its name, its shape as PyTorch gives it (outermost dimension first), the type to store it as,
/// and a function producing its values in row-major order (called once, when the data is written).
/// </summary>
/// <param name="Name">The GGUF tensor name (e.g. <c>blk.0.attn_q.weight</c>).</param>
/// <param name="Shape">Row-major shape; GGUF stores it reversed (innermost first), which <see cref="Dimensions"/> gives.</param>
/// <param name="Type">How the values are stored.</param>
/// <param name="Values">The values, row-major.</param>
public sealed record GgufTensorSource(string Name, long[] Shape, GgmlType Type, Func<float[]> Values)
{
    /// <summary>The dimensions in GGML order: the innermost (contiguous) one first.</summary>
    public ulong[] Dimensions => Shape.Reverse().Select(d => (ulong)d).ToArray();

    /// <summary>Number of values.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Bytes the stored data takes.</summary>
    public long ByteSize => Gguf.ByteSize(Type, ElementCount);
}

/// <summary>
/// Writes a GGUF v3 file: the header, typed metadata (key order kept), tensor infos, then each tensor's data at an
/// offset aligned to <see cref="Gguf.Alignment"/> bytes. The file is written atomically.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<KeyValuePair<string, GgufValue>> metadata = [];
    private readonly List<GgufTensorSource> tensors = [];

    /// <summary>The metadata written so far, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata => metadata;

    /// <summary>The tensors added so far, in order.</summary>
    public IReadOnlyList<GgufTensorSource> Tensors => tensors;

    /// <summary>Sets a metadata key (a key set twice keeps its first position and the last value).</summary>
    public GgufWriter Set(string key, GgufValue value)
    {
        int at = metadata.FindIndex(kv => kv.Key == key);
        if (at >= 0) metadata[at] = new(key, value);
        else metadata.Add(new(key, value));
        return this;
    }

    /// <summary>Adds a tensor.</summary>
    public GgufWriter Add(GgufTensorSource tensor)
    {
        if (tensors.Any(t => t.Name == tensor.Name)) throw new ArgumentException($"tensor '{tensor.Name}' was added twice");
        if (tensor.Type == GgmlType.Q8_0 && tensor.Shape[^1] % Gguf.Q8BlockSize != 0)
            throw new ArgumentException($"tensor '{tensor.Name}': Q8_0 needs rows of a multiple of {Gguf.Q8BlockSize} values, got {tensor.Shape[^1]}");
        tensors.Add(tensor);
        return this;
    }

    /// <summary>Writes the file atomically (a reader sees the old file or the complete new one).</summary>
    public void Save(string path) => AtomicFile.Write(path, WriteTo);

    /// <summary>Writes the file to a stream.</summary>
    public void WriteTo(Stream stream)
    {
        var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Gguf.Magic);
        w.Write(Gguf.Version);
        w.Write((ulong)tensors.Count);
        w.Write((ulong)metadata.Count);
        foreach (var (key, value) in metadata)
        {
            WriteString(w, key);
            w.Write((uint)value.Type);
            if (value.Type == GgufValueType.Array)
            {
                var array = (Array)value.Value;
                w.Write((uint)value.ElementType!.Value);
                w.Write((ulong)array.Length);
                foreach (var element in array) WriteScalar(w, value.ElementType.Value, element);
            }
            else WriteScalar(w, value.Type, value.Value);
        }
        long offset = 0;
        foreach (var t in tensors)
        {
            WriteString(w, t.Name);
            var dims = t.Dimensions;
            w.Write((uint)dims.Length);
            foreach (var d in dims) w.Write(d);
            w.Write((uint)t.Type);
            w.Write((ulong)offset);
            offset = Gguf.Align(offset + t.ByteSize);
        }
        w.Flush();
        Pad(stream, w);
        foreach (var t in tensors)
        {
            var values = t.Values();
            if (values.LongLength != t.ElementCount)
                throw new InvalidOperationException($"tensor '{t.Name}' produced {values.LongLength} values for shape [{string.Join(", ", t.Shape)}]");
            w.Write(Encode(values, t.Type));
            Pad(stream, w);
        }
        w.Flush();
    }

    private static byte[] Encode(float[] values, GgmlType type)
    {
        switch (type)
        {
            case GgmlType.F32:
                var f32 = new byte[values.Length * 4];
                Buffer.BlockCopy(values, 0, f32, 0, f32.Length);
                return f32;
            case GgmlType.F16:
                var f16 = new byte[values.Length * 2];
                for (int i = 0; i < values.Length; i++) BitConverter.TryWriteBytes(f16.AsSpan(2 * i, 2), (Half)values[i]);
                return f16;
            case GgmlType.Q8_0:
                return Q8Blocks.Quantize(values);
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "not a type the kit writes");
        }
    }

    private static void Pad(Stream stream, BinaryWriter w)
    {
        w.Flush();
        long position = stream.Position;
        for (long i = position; i < Gguf.Align(position); i++) w.Write((byte)0);
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteScalar(BinaryWriter w, GgufValueType type, object value)
    {
        switch (type)
        {
            case GgufValueType.UInt8: w.Write((byte)value); break;
            case GgufValueType.Int8: w.Write((sbyte)value); break;
            case GgufValueType.UInt16: w.Write((ushort)value); break;
            case GgufValueType.Int16: w.Write((short)value); break;
            case GgufValueType.UInt32: w.Write((uint)value); break;
            case GgufValueType.Int32: w.Write((int)value); break;
            case GgufValueType.Float32: w.Write((float)value); break;
            case GgufValueType.Bool: w.Write((bool)value ? (byte)1 : (byte)0); break;
            case GgufValueType.String: WriteString(w, (string)value); break;
            case GgufValueType.UInt64: w.Write((ulong)value); break;
            case GgufValueType.Int64: w.Write((long)value); break;
            case GgufValueType.Float64: w.Write((double)value); break;
            default: throw new ArgumentOutOfRangeException(nameof(type), type, "nested arrays are not written");
        }
    }
}
