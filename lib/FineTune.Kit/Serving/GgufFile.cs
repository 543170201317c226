using System.Text;

namespace FineTune.Kit.Serving;

/// <summary>One tensor's entry in a GGUF file.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="Dimensions">Dimensions in GGML order (innermost first).</param>
/// <param name="Type">Storage type.</param>
/// <param name="Offset">Offset of the data from the start of the data section.</param>
public sealed record GgufTensorInfo(string Name, ulong[] Dimensions, GgmlType Type, ulong Offset)
{
    /// <summary>The shape as PyTorch writes it (outermost first).</summary>
    public long[] Shape => Dimensions.Reverse().Select(d => (long)d).ToArray();

    /// <summary>Number of values.</summary>
    public long ElementCount => Dimensions.Aggregate(1L, (a, d) => a * (long)d);
}

/// <summary>
/// A GGUF file read back: version, metadata in file order, tensor infos, and the tensors' values on request
/// (F32, F16 and Q8_0, dequantised to floats). Used to check what the exporter wrote and to describe a file.
/// </summary>
public sealed class GgufFile
{
    private GgufFile(string path, uint version, List<KeyValuePair<string, GgufValue>> metadata, List<GgufTensorInfo> tensors, long dataOffset, int alignment)
    {
        Path = path;
        Version = version;
        MetadataInOrder = metadata;
        Metadata = metadata.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        Tensors = tensors;
        DataOffset = dataOffset;
        Alignment = alignment;
    }

    /// <summary>The file.</summary>
    public string Path { get; }
    /// <summary>The format version (2 or 3).</summary>
    public uint Version { get; }
    /// <summary>Metadata by key.</summary>
    public IReadOnlyDictionary<string, GgufValue> Metadata { get; }
    /// <summary>Metadata in the order the file lists it.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> MetadataInOrder { get; }
    /// <summary>Tensor infos in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }
    /// <summary>Where the data section starts (bytes from the start of the file).</summary>
    public long DataOffset { get; }
    /// <summary>The data alignment (<c>general.alignment</c>, 32 by default).</summary>
    public int Alignment { get; }

    /// <summary>Reads the header, metadata and tensor infos of a GGUF file.</summary>
    /// <exception cref="GgufFormatException">The file is not GGUF, is truncated, or holds an unknown type.</exception>
    public static GgufFile Read(string path)
    {
        if (!File.Exists(path)) throw new GgufFormatException($"{path}: file not found.");
        using var stream = File.OpenRead(path);
        var r = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            if (stream.Length < 24) throw new GgufFormatException($"{path}: {stream.Length} bytes is too short for a GGUF header.");
            uint magic = r.ReadUInt32();
            if (magic != Gguf.Magic) throw new GgufFormatException($"{path}: not a GGUF file (the first four bytes are not \"GGUF\").");
            uint version = r.ReadUInt32();
            if (version is not (2 or 3)) throw new GgufFormatException($"{path}: GGUF version {version} is not supported (expected 2 or 3).");
            ulong tensorCount = r.ReadUInt64(), kvCount = r.ReadUInt64();
            // every entry takes at least 8 bytes, so counts past the file size mean a corrupt header
            if (tensorCount > (ulong)stream.Length / 8 || kvCount > (ulong)stream.Length / 8)
                throw new GgufFormatException($"{path}: header claims {tensorCount} tensors and {kvCount} metadata entries, more than the file can hold.");
            var metadata = new List<KeyValuePair<string, GgufValue>>();
            for (ulong i = 0; i < kvCount; i++)
            {
                var key = ReadString(r, path);
                var type = (GgufValueType)r.ReadUInt32();
                metadata.Add(new(key, ReadValue(r, type, path, key)));
            }
            var tensors = new List<GgufTensorInfo>();
            for (ulong i = 0; i < tensorCount; i++)
            {
                var name = ReadString(r, path);
                uint nDims = r.ReadUInt32();
                if (nDims is 0 or > 4) throw new GgufFormatException($"{path}: tensor '{name}' has {nDims} dimensions (expected 1 to 4).");
                var dims = new ulong[nDims];
                for (int d = 0; d < nDims; d++) dims[d] = r.ReadUInt64();
                var type = (GgmlType)r.ReadUInt32();
                if (!Enum.IsDefined(type)) throw new GgufFormatException($"{path}: tensor '{name}' has ggml type {(uint)type}, which the kit does not read (F32, F16, Q8_0).");
                tensors.Add(new GgufTensorInfo(name, dims, type, r.ReadUInt64()));
            }
            int alignment = metadata.FirstOrDefault(kv => kv.Key == "general.alignment").Value is { } a ? (int)a.AsInt64() : Gguf.Alignment;
            if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
                throw new GgufFormatException($"{path}: general.alignment {alignment} is not a power of two.");
            long dataOffset = Gguf.Align(stream.Position, alignment);
            var file = new GgufFile(path, version, metadata, tensors, dataOffset, alignment);
            foreach (var t in tensors)
            {
                if (t.Offset % (ulong)alignment != 0)
                    throw new GgufFormatException($"{path}: tensor '{t.Name}' starts at offset {t.Offset}, not a multiple of the alignment {alignment}.");
                long end = dataOffset + (long)t.Offset + Gguf.ByteSize(t.Type, t.ElementCount);
                if (end > stream.Length)
                    throw new GgufFormatException($"{path}: tensor '{t.Name}' ends at byte {end}, past the end of the file ({stream.Length} bytes); the file is truncated.");
            }
            return file;
        }
        catch (EndOfStreamException e)
        {
            throw new GgufFormatException($"{path}: the file ends inside its header; it is truncated.", e);
        }
    }

    /// <summary>A tensor's info by name.</summary>
    public GgufTensorInfo Tensor(string name) =>
        Tensors.FirstOrDefault(t => t.Name == name) ?? throw new GgufFormatException($"{Path}: no tensor named '{name}'.");

    /// <summary>A tensor's values in row-major order, dequantised to floats.</summary>
    public float[] ReadTensor(string name)
    {
        var info = Tensor(name);
        var bytes = new byte[Gguf.ByteSize(info.Type, info.ElementCount)];
        using (var stream = File.OpenRead(Path))
        {
            stream.Position = DataOffset + (long)info.Offset;
            stream.ReadExactly(bytes);
        }
        switch (info.Type)
        {
            case GgmlType.F32:
                var f32 = new float[info.ElementCount];
                Buffer.BlockCopy(bytes, 0, f32, 0, bytes.Length);
                return f32;
            case GgmlType.F16:
                var f16 = new float[info.ElementCount];
                for (int i = 0; i < f16.Length; i++) f16[i] = (float)BitConverter.ToHalf(bytes, 2 * i);
                return f16;
            default:
                return Q8Blocks.Dequantize(bytes);
        }
    }

    /// <summary>The raw stored bytes of a tensor.</summary>
    public byte[] ReadTensorBytes(string name)
    {
        var info = Tensor(name);
        var bytes = new byte[Gguf.ByteSize(info.Type, info.ElementCount)];
        using var stream = File.OpenRead(Path);
        stream.Position = DataOffset + (long)info.Offset;
        stream.ReadExactly(bytes);
        return bytes;
    }

    private static string ReadString(BinaryReader r, string path)
    {
        ulong length = r.ReadUInt64();
        if (length > (ulong)(r.BaseStream.Length - r.BaseStream.Position))
            throw new GgufFormatException($"{path}: a string at byte {r.BaseStream.Position - 8} claims {length} bytes, past the end of the file.");
        return Encoding.UTF8.GetString(r.ReadBytes((int)length));
    }

    private static GgufValue ReadValue(BinaryReader r, GgufValueType type, string path, string key)
    {
        if (type == GgufValueType.Array)
        {
            var elementType = (GgufValueType)r.ReadUInt32();
            ulong count = r.ReadUInt64();
            if (count > (ulong)(r.BaseStream.Length - r.BaseStream.Position))
                throw new GgufFormatException($"{path}: metadata '{key}' claims {count} elements, more than the file holds.");
            if (elementType == GgufValueType.Array) throw new GgufFormatException($"{path}: metadata '{key}' is an array of arrays, which the kit does not read.");
            var items = Enumerable.Range(0, (int)count).Select(_ => ReadScalar(r, elementType, path, key)).ToList();
            Array array = elementType switch
            {
                GgufValueType.String => items.Cast<string>().ToArray(),
                GgufValueType.Int32 => items.Cast<int>().ToArray(),
                GgufValueType.UInt32 => items.Cast<uint>().ToArray(),
                GgufValueType.Float32 => items.Cast<float>().ToArray(),
                _ => items.ToArray(),
            };
            return GgufValue.Of(type, array, elementType);
        }
        return GgufValue.Of(type, ReadScalar(r, type, path, key));
    }

    private static object ReadScalar(BinaryReader r, GgufValueType type, string path, string key) => type switch
    {
        GgufValueType.UInt8 => r.ReadByte(),
        GgufValueType.Int8 => r.ReadSByte(),
        GgufValueType.UInt16 => r.ReadUInt16(),
        GgufValueType.Int16 => r.ReadInt16(),
        GgufValueType.UInt32 => r.ReadUInt32(),
        GgufValueType.Int32 => r.ReadInt32(),
        GgufValueType.Float32 => r.ReadSingle(),
        GgufValueType.Bool => r.ReadByte() switch
        {
            0 => false, 1 => true,
            var b => throw new GgufFormatException($"{path}: metadata '{key}' holds bool byte {b} (expected 0 or 1)."),
        },
        GgufValueType.String => ReadString(r, path),
        GgufValueType.UInt64 => r.ReadUInt64(),
        GgufValueType.Int64 => r.ReadInt64(),
        GgufValueType.Float64 => r.ReadDouble(),
        _ => throw new GgufFormatException($"{path}: metadata '{key}' has value type {(uint)type}, which GGUF does not define."),
    };
}
