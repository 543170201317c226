using System.Globalization;
using System.Text.Json.Nodes;
using Parquet;
using Parquet.Data;
using Parquet.Schema;

namespace FineTune.Kit.Data;

/// <summary>
/// Reads Apache Parquet files (through Parquet.Net) into the kit's JSON rows, one row group at a time, so memory is
/// bounded by the largest row group rather than the file. Flat columns of every primitive type, nulls, lists and
/// structs (a <c>messages</c> list of <c>{role, content}</c> structs becomes the same JSON array JSONL would hold) are
/// read; maps, binary and other types that have no faithful JSON form are refused by name.
/// </summary>
public static class ParquetRowReader
{
    /// <summary>
    /// Streams the rows of a Parquet file. <see cref="Example.Line"/> is the 1-based row number in the file. Errors
    /// (<see cref="DataFormatException"/>) name the file, the row group, the row and the column.
    /// </summary>
    public static IEnumerable<Example> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        using var stream = File.OpenRead(path);
        foreach (var e in Read(stream, path)) yield return e;
    }

    /// <summary>Streams the rows of Parquet data from a seekable stream; <paramref name="source"/> names it in errors.</summary>
    public static IEnumerable<Example> Read(Stream stream, string source)
    {
        var reader = Open(stream, source);
        try
        {
            var fields = reader.Schema.Fields;
            foreach (var f in fields) Check(f, source);
            int rowBase = 0;
            for (int g = 0; g < reader.RowGroupCount; g++)
            {
                var rows = ReadGroup(reader, g, fields, source, rowBase);
                foreach (var row in rows) yield return row;
                rowBase += rows.Count;
            }
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>The number of rows a Parquet file holds, from its footer (no data is read).</summary>
    public static long CountRows(string path)
    {
        using var stream = File.OpenRead(path);
        var reader = Open(stream, path);
        try
        {
            long n = 0;
            for (int g = 0; g < reader.RowGroupCount; g++)
                using (var rg = reader.OpenRowGroupReader(g)) n += rg.RowCount;
            return n;
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static ParquetReader Open(Stream stream, string source)
    {
        try
        {
            return ParquetReader.CreateAsync(stream, leaveStreamOpen: true).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or ArgumentException)
        {
            throw new DataFormatException($"{source}: not a readable Parquet file: {e.Message}", e);
        }
    }

    // refuse what has no faithful JSON form before reading any data, naming the column
    private static void Check(Field field, string source)
    {
        switch (field)
        {
            case MapField:
                throw new DataFormatException($"{source}: column '{Name(field)}' is a Parquet map; maps are not supported (expected primitive, list or struct columns)");
            case StructField s:
                foreach (var c in s.Fields) Check(c, source);
                break;
            case ListField l:
                Check(l.Item, source);
                break;
            case DataField d:
                if (d.IsArray)
                    throw new DataFormatException($"{source}: column '{Name(field)}' is a bare repeated field (legacy list layout); not supported, expected a LIST-annotated column");
                if (ToJson(d.ClrType) is null)
                    throw new DataFormatException($"{source}: column '{Name(field)}' has type {TypeName(d.ClrType)}, which is not supported " +
                                                  "(expected strings, booleans, integers, floating-point or decimal numbers, dates and times, or lists and structs of them)");
                break;
            default:
                throw new DataFormatException($"{source}: column '{Name(field)}' is a {field.SchemaType} column, which is not supported");
        }
    }

    private static string Name(Field f) => f.Path.ToString().Replace("/list/element", "[]").Replace("/key_value/", ".").Replace('/', '.');

    private static string TypeName(Type t) => t == typeof(byte[]) || t == typeof(ReadOnlyMemory<byte>) ? "binary (bytes)" : t.Name;

    /// <summary>One leaf column of a row group: its non-null values (as JSON), and definition and repetition levels.</summary>
    private sealed class LeafColumn(DataField field, JsonNode?[] values, int[] definitions, int[]? repetitions)
    {
        public DataField Field { get; } = field;
        public int Position;     // next level entry
        public int ValueIndex;   // next non-null value
        public int Definition => Position < definitions.Length ? definitions[Position] : -1;
        public int Repetition => repetitions is null || Position >= repetitions.Length ? 0 : repetitions[Position];
        public bool AtEnd => Position >= definitions.Length;
        public JsonNode? TakeValue() => values[ValueIndex++];
        public void Skip() => Position++;
    }

    private static List<Example> ReadGroup(ParquetReader reader, int group, IReadOnlyList<Field> fields, string source, int rowBase)
    {
        using var rg = reader.OpenRowGroupReader(group);
        var leaves = new Dictionary<DataField, LeafColumn>();
        foreach (var leaf in reader.Schema.GetDataFields())
            leaves[leaf] = ReadLeaf(rg, leaf, group, source, rowBase);
        int count = checked((int)rg.RowCount);
        var rows = new List<Example>(count);
        for (int r = 0; r < count; r++)
        {
            var o = new JsonObject();
            int rowNumber = rowBase + r + 1;
            foreach (var f in fields)
            {
                try
                {
                    o[f.Name] = Assemble(f, leaves);
                }
                catch (InvalidDataException e)
                {
                    throw new DataFormatException($"{source}: row group {group}, row {rowNumber}, column '{Name(f)}': {e.Message}");
                }
            }
            rows.Add(new Example(o, rowNumber));
        }
        foreach (var leaf in leaves.Values)
            if (!leaf.AtEnd)
                throw new DataFormatException($"{source}: row group {group}, column '{Name(leaf.Field)}': holds more entries than the group's {count} rows");
        return rows;
    }

    private static LeafColumn ReadLeaf(ParquetRowGroupReader rg, DataField leaf, int group, string source, int rowBase)
    {
        RawColumnData raw;
        try
        {
            raw = rg.ReadRawColumnDataBaseAsync(leaf).AsTask().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var inner = e.InnerException ?? e;
            var why = inner is NotImplementedException
                ? "its pages use an encoding Parquet.Net 6.1 does not read (for nested columns: data page v2); rewrite the file with data page v1 (pyarrow's default)"
                : inner.Message;
            throw new DataFormatException($"{source}: row group {group}, column '{Name(leaf)}': could not be read: {why}", e);
        }
        using (raw)
        {
            var convert = ToJson(leaf.ClrType)!;
            var values = convert(raw);
            int[] defs = leaf.MaxDefinitionLevel == 0 ? new int[values.Length] : raw.DefinitionLevels.ToArray();
            int[]? reps = leaf.MaxRepetitionLevel == 0 ? null : raw.RepetitionLevels.ToArray();
            return new LeafColumn(leaf, values, defs, reps);
        }
    }

    // Rebuilds one value of a (possibly nested) field from its leaf columns (Dremel record assembly): a null or empty
    // list, or a null struct, is one entry in every leaf below it; list elements continue while the next entry repeats
    // at the list's repetition level.
    private static JsonNode? Assemble(Field field, Dictionary<DataField, LeafColumn> leaves)
    {
        var first = FirstLeaf(field, leaves);
        if (first.AtEnd) throw new InvalidDataException("column ended before the row group's last row");
        switch (field)
        {
            case DataField d:
            {
                var leaf = leaves[d];
                bool present = leaf.Definition == d.MaxDefinitionLevel;
                var value = present ? leaf.TakeValue() : null;
                leaf.Skip();
                if (value is JsonValue v && v.TryGetValue<double>(out var x) && !double.IsFinite(x))
                    throw new InvalidDataException($"{x.ToString(CultureInfo.InvariantCulture)} has no JSON form; expected a finite number or null");
                return value;
            }
            case StructField s:
            {
                if (first.Definition < s.MaxDefinitionLevel)
                {
                    SkipAll(field, leaves);
                    return null;
                }
                var o = new JsonObject();
                foreach (var c in s.Fields) o[c.Name] = Assemble(c, leaves);
                return o;
            }
            case ListField l:
            {
                int def = first.Definition;
                if (def < l.MaxDefinitionLevel)
                {
                    SkipAll(field, leaves);
                    return def < l.MaxDefinitionLevel - 1 && l.IsNullable ? null : new JsonArray();
                }
                var array = new JsonArray();
                do array.Add(Assemble(l.Item, leaves));
                while (!first.AtEnd && first.Repetition == l.MaxRepetitionLevel);
                return array;
            }
            default:
                throw new InvalidDataException($"unsupported {field.SchemaType} field");
        }
    }

    private static LeafColumn FirstLeaf(Field field, Dictionary<DataField, LeafColumn> leaves) => field switch
    {
        DataField d => leaves[d],
        StructField s => FirstLeaf(s.Fields[0], leaves),
        ListField l => FirstLeaf(l.Item, leaves),
        _ => throw new InvalidDataException($"unsupported {field.SchemaType} field"),
    };

    private static void SkipAll(Field field, Dictionary<DataField, LeafColumn> leaves)
    {
        switch (field)
        {
            case DataField d: leaves[d].Skip(); break;
            case StructField s: foreach (var c in s.Fields) SkipAll(c, leaves); break;
            case ListField l: SkipAll(l.Item, leaves); break;
        }
    }

    // The converter of a leaf's packed non-null values to JSON, or null when the type has no faithful JSON form.
    private static Func<RawColumnData, JsonNode?[]>? ToJson(Type t)
    {
        if (t == typeof(ReadOnlyMemory<char>)) return Map<ReadOnlyMemory<char>>(v => JsonValue.Create(v.ToString()));
        if (t == typeof(bool)) return Map<bool>(v => JsonValue.Create(v));
        if (t == typeof(sbyte)) return Map<sbyte>(v => JsonValue.Create(v));
        if (t == typeof(byte)) return Map<byte>(v => JsonValue.Create(v));
        if (t == typeof(short)) return Map<short>(v => JsonValue.Create(v));
        if (t == typeof(ushort)) return Map<ushort>(v => JsonValue.Create(v));
        if (t == typeof(int)) return Map<int>(v => JsonValue.Create(v));
        if (t == typeof(uint)) return Map<uint>(v => JsonValue.Create(v));
        if (t == typeof(long)) return Map<long>(v => JsonValue.Create(v));
        if (t == typeof(ulong)) return Map<ulong>(v => JsonValue.Create(v));
        if (t == typeof(float)) return Map<float>(v => JsonValue.Create((double)v));
        if (t == typeof(double)) return Map<double>(v => JsonValue.Create(v));
        if (t == typeof(Half)) return Map<Half>(v => JsonValue.Create((double)v));
        if (t == typeof(decimal)) return Map<decimal>(v => JsonValue.Create(v));
        if (t == typeof(DateTime)) return Map<DateTime>(v => JsonValue.Create(v.ToString("o", CultureInfo.InvariantCulture)));
        if (t == typeof(DateTimeOffset)) return Map<DateTimeOffset>(v => JsonValue.Create(v.ToString("o", CultureInfo.InvariantCulture)));
        if (t == typeof(DateOnly)) return Map<DateOnly>(v => JsonValue.Create(v.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
        if (t == typeof(TimeOnly)) return Map<TimeOnly>(v => JsonValue.Create(v.ToString("HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture)));
        if (t == typeof(TimeSpan)) return Map<TimeSpan>(v => JsonValue.Create(v.ToString("c", CultureInfo.InvariantCulture)));
        if (t == typeof(Guid)) return Map<Guid>(v => JsonValue.Create(v.ToString("D")));
        return null;

        static Func<RawColumnData, JsonNode?[]> Map<T>(Func<T, JsonNode?> one) where T : struct => raw =>
        {
            var values = ((RawColumnData<T>)raw).Values;
            var result = new JsonNode?[values.Length];
            for (int i = 0; i < values.Length; i++) result[i] = one(values[i]);
            return result;
        };
    }
}
