using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Io;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Kit.Models;

/// <summary>One tensor's entry in a safetensors header.</summary>
/// <param name="Name">The tensor's key.</param>
/// <param name="DType">The safetensors dtype string (F32, F16, BF16, …).</param>
/// <param name="Shape">The tensor's shape.</param>
/// <param name="Begin">First byte of the data, relative to the end of the header.</param>
/// <param name="End">One past the last byte of the data.</param>
public sealed record SafeTensorEntry(string Name, string DType, long[] Shape, long Begin, long End);

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header mapping names to
/// dtype, shape and data offsets, then the raw little-endian tensor bytes. Every offset is checked before use.
/// </summary>
public sealed class SafeTensorFile
{
    private const long MaxHeaderBytes = 100L << 20;

    private static readonly Dictionary<string, (ScalarType Type, int Size)> DTypes = new()
    {
        ["F64"] = (ScalarType.Float64, 8), ["F32"] = (ScalarType.Float32, 4), ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2), ["I64"] = (ScalarType.Int64, 8), ["I32"] = (ScalarType.Int32, 4),
        ["I16"] = (ScalarType.Int16, 2), ["I8"] = (ScalarType.Int8, 1), ["U8"] = (ScalarType.Byte, 1),
        ["BOOL"] = (ScalarType.Bool, 1),
    };

    private SafeTensorFile(string path, long dataStart, IReadOnlyDictionary<string, SafeTensorEntry> entries,
        IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        DataStart = dataStart;
        Entries = entries;
        Metadata = metadata;
    }

    /// <summary>The file this header was read from.</summary>
    public string Path { get; }

    /// <summary>Byte offset in the file where tensor data begins.</summary>
    public long DataStart { get; }

    /// <summary>The tensors in the file, by name.</summary>
    public IReadOnlyDictionary<string, SafeTensorEntry> Entries { get; }

    /// <summary>The optional `__metadata__` string map.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Reads and validates the header of a safetensors file.</summary>
    /// <exception cref="ModelFormatException">The file is truncated, the header is not valid JSON, a dtype is unknown,
    /// or data offsets are out of range, overlapping or disagree with the shape.</exception>
    public static SafeTensorFile Open(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException($"{path}: safetensors file not found.");
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long fileLength = fs.Length;
        if (fileLength < 8) throw new ModelFormatException($"{path}: truncated: {fileLength} bytes, the 8-byte header length is missing.");
        Span<byte> lenBytes = stackalloc byte[8];
        fs.ReadExactly(lenBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lenBytes);
        if (headerLength > (ulong)(fileLength - 8))
            throw new ModelFormatException($"{path}: header length {headerLength} runs past the end of the file ({fileLength} bytes); the file is truncated or not safetensors.");
        if ((long)headerLength > MaxHeaderBytes)
            throw new ModelFormatException($"{path}: header length {headerLength} exceeds the {MaxHeaderBytes} byte limit.");
        var headerBytes = new byte[headerLength];
        fs.ReadExactly(headerBytes);
        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;

        JsonObject header;
        try
        {
            header = JsonNode.Parse(Encoding.UTF8.GetString(headerBytes).TrimEnd(' ', '\0'))?.AsObject()
                     ?? throw new ModelFormatException($"{path}: header is empty.");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new ModelFormatException($"{path}: header is not a JSON object: {e.Message}", e);
        }

        var entries = new Dictionary<string, SafeTensorEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                if (node is JsonObject meta)
                    foreach (var (k, v) in meta) metadata[k] = v?.ToString() ?? "";
                continue;
            }
            entries[name] = ParseEntry(path, name, node, dataLength);
        }

        // Offsets must not overlap: sort by start and check each ends before the next begins.
        var sorted = entries.Values.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        for (int i = 1; i < sorted.Count; i++)
            if (sorted[i].Begin < sorted[i - 1].End)
                throw new ModelFormatException($"{path}: tensors '{sorted[i - 1].Name}' [{sorted[i - 1].Begin}, {sorted[i - 1].End}) and '{sorted[i].Name}' [{sorted[i].Begin}, {sorted[i].End}) overlap.");
        return new SafeTensorFile(path, dataStart, entries, metadata);
    }

    private static SafeTensorEntry ParseEntry(string path, string name, JsonNode? node, long dataLength)
    {
        if (node is not JsonObject o) throw new ModelFormatException($"{path}: entry '{name}' is not an object.");
        var dtype = o["dtype"]?.GetValue<string>() ?? throw new ModelFormatException($"{path}: tensor '{name}' has no dtype.");
        if (!DTypes.TryGetValue(dtype, out var info))
            throw new ModelFormatException($"{path}: tensor '{name}' has unknown dtype '{dtype}' (expected one of {string.Join(", ", DTypes.Keys)}).");
        var shape = (o["shape"] as JsonArray ?? throw new ModelFormatException($"{path}: tensor '{name}' has no shape."))
            .Select(n => n!.GetValue<long>()).ToArray();
        if (shape.Any(d => d < 0)) throw new ModelFormatException($"{path}: tensor '{name}' has a negative dimension in [{string.Join(", ", shape)}].");
        var offsets = o["data_offsets"] as JsonArray;
        if (offsets is not { Count: 2 }) throw new ModelFormatException($"{path}: tensor '{name}' needs data_offsets [begin, end].");
        long begin = offsets[0]!.GetValue<long>(), end = offsets[1]!.GetValue<long>();
        if (begin < 0 || end < begin || end > dataLength)
            throw new ModelFormatException($"{path}: tensor '{name}' data_offsets [{begin}, {end}) are outside the {dataLength} data bytes; the file is truncated or corrupt.");
        long expected = shape.Aggregate(1L, (a, d) => a * d) * info.Size;
        if (end - begin != expected)
            throw new ModelFormatException($"{path}: tensor '{name}' holds {end - begin} bytes but {dtype} [{string.Join(", ", shape)}] needs {expected}.");
        return new SafeTensorEntry(name, dtype, shape, begin, end);
    }

    /// <summary>The torch scalar type for a safetensors dtype string.</summary>
    public static ScalarType ScalarTypeOf(string dtype) => DTypes[dtype].Type;

    /// <summary>The safetensors dtype string for a torch scalar type.</summary>
    public static string DTypeOf(ScalarType type) =>
        DTypes.FirstOrDefault(kv => kv.Value.Type == type).Key
        ?? throw new ArgumentException($"dtype {type} cannot be stored in safetensors.");

    /// <summary>Reads one tensor (on the CPU, in its stored dtype).</summary>
    public Tensor Read(string name)
    {
        if (!Entries.TryGetValue(name, out var e)) throw new ModelFormatException($"{Path}: no tensor named '{name}'.");
        var bytes = new byte[e.End - e.Begin];
        using (var fs = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
        {
            fs.Position = DataStart + e.Begin;
            fs.ReadExactly(bytes);
        }
        var t = empty(e.Shape, ScalarTypeOf(e.DType));
        if (bytes.Length > 0) t.bytes = bytes;
        return t;
    }

    /// <summary>
    /// Writes tensors to a safetensors file atomically. Keys are written in sorted order and the header is padded with
    /// spaces to a multiple of 8 bytes, as the reference implementation does.
    /// </summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var items = tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        var blobs = new List<byte[]>(items.Count);
        foreach (var (name, tensor) in items)
        {
            using var cpu = tensor.detach().cpu().contiguous();
            var bytes = cpu.numel() == 0 ? [] : cpu.bytes.ToArray();
            blobs.Add(bytes);
            header[name] = new JsonObject
            {
                ["dtype"] = DTypeOf(cpu.dtype),
                ["shape"] = new JsonArray(cpu.shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes.Length),
            };
            offset += bytes.Length;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        AtomicFile.Write(path, s =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
            s.Write(len);
            s.Write(json);
            for (int i = json.Length; i < padded; i++) s.WriteByte((byte)' ');
            foreach (var b in blobs) s.Write(b);
        });
    }
}

/// <summary>
/// The tensors of a Hugging Face model folder: `model.safetensors`, or shards listed in
/// `model.safetensors.index.json`. Names map to the file that holds them.
/// </summary>
public sealed class SafeTensorFolder
{
    private readonly Dictionary<string, SafeTensorFile> _byName = new(StringComparer.Ordinal);

    private SafeTensorFolder(string directory) => Directory = directory;

    /// <summary>The folder.</summary>
    public string Directory { get; }

    /// <summary>Every tensor name in the folder.</summary>
    public IEnumerable<string> Names => _byName.Keys;

    /// <summary>The header entry of a tensor.</summary>
    public SafeTensorEntry Entry(string name) => _byName[name].Entries[name];

    /// <summary>The file a tensor lives in.</summary>
    public string FileOf(string name) => _byName[name].Path;

    /// <summary>Whether the folder has a tensor of this name.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>Reads a tensor on the CPU in its stored dtype.</summary>
    public Tensor Read(string name) => _byName[name].Read(name);

    /// <summary>Opens the folder's single file or its shard index.</summary>
    public static SafeTensorFolder Open(string directory)
    {
        var folder = new SafeTensorFolder(directory);
        var single = System.IO.Path.Combine(directory, "model.safetensors");
        var index = System.IO.Path.Combine(directory, "model.safetensors.index.json");
        if (File.Exists(index))
        {
            JsonObject map;
            try
            {
                map = JsonNode.Parse(File.ReadAllText(index))?["weight_map"] as JsonObject
                      ?? throw new ModelFormatException($"{index}: no \"weight_map\" object.");
            }
            catch (JsonException e)
            {
                throw new ModelFormatException($"{index}: not valid JSON: {e.Message}", e);
            }
            var files = new Dictionary<string, SafeTensorFile>();
            foreach (var (name, fileNode) in map)
            {
                var file = fileNode?.GetValue<string>() ?? throw new ModelFormatException($"{index}: tensor '{name}' has no file.");
                if (!files.TryGetValue(file, out var shard))
                    files[file] = shard = SafeTensorFile.Open(System.IO.Path.Combine(directory, file));
                if (!shard.Entries.ContainsKey(name))
                    throw new ModelFormatException($"{index}: tensor '{name}' is listed in {file} but that shard does not contain it.");
                folder._byName[name] = shard;
            }
        }
        else if (File.Exists(single))
        {
            var file = SafeTensorFile.Open(single);
            foreach (var name in file.Entries.Keys) folder._byName[name] = file;
        }
        else
        {
            throw new ModelFormatException($"{directory}: no model.safetensors or model.safetensors.index.json found.");
        }
        return folder;
    }

    /// <summary>
    /// Writes tensors as `model.safetensors`, or as shards of at most <paramref name="maxShardBytes"/> with an index
    /// file when they do not fit in one.
    /// </summary>
    public static void Save(string directory, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, long maxShardBytes = 2L << 30)
    {
        var ordered = tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var shards = new List<List<KeyValuePair<string, Tensor>>> { new() };
        long size = 0, total = 0;
        foreach (var kv in ordered)
        {
            long bytes = kv.Value.numel() * kv.Value.ElementSize;
            if (size > 0 && size + bytes > maxShardBytes) { shards.Add([]); size = 0; }
            shards[^1].Add(kv);
            size += bytes;
            total += bytes;
        }
        var meta = new Dictionary<string, string> { ["format"] = "pt" };
        if (shards.Count == 1)
        {
            SafeTensorFile.Save(System.IO.Path.Combine(directory, "model.safetensors"), shards[0], meta);
            return;
        }
        var weightMap = new JsonObject();
        for (int i = 0; i < shards.Count; i++)
        {
            var file = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            SafeTensorFile.Save(System.IO.Path.Combine(directory, file), shards[i], meta);
            foreach (var kv in shards[i]) weightMap[kv.Key] = file;
        }
        var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = total }, ["weight_map"] = weightMap };
        AtomicFile.WriteAllText(System.IO.Path.Combine(directory, "model.safetensors.index.json"),
            index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
