using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Parquet;
using Parquet.Schema;

namespace FineTune.Kit.Data;

/// <summary>
/// Writes the kit's JSON rows as an Apache Parquet file (Parquet.Net, Snappy-compressed), atomically. The schema is
/// inferred from the rows: strings, integers (64-bit), other numbers (double), booleans, lists and structs, every
/// column nullable; a column holding two kinds of value (a string in one row, a number in another) is refused,
/// naming the column and the row.
/// </summary>
public static class ParquetRowWriter
{
    /// <summary>Rows per row group unless told otherwise (readers stream one group at a time).</summary>
    public const int DefaultRowGroupSize = 10_000;

    /// <summary>Writes <paramref name="rows"/> to <paramref name="path"/> in row groups of <paramref name="rowGroupSize"/> rows.</summary>
    public static void Write(string path, IReadOnlyList<Example> rows, int rowGroupSize = DefaultRowGroupSize)
    {
        CheckGroupSize(rowGroupSize);
        var columns = Infer(rows);
        WriteGroups(path, columns, rows.Chunk(rowGroupSize), check: false);
    }

    /// <summary>
    /// Writes a stream of rows, holding one row group at a time: the schema is inferred from the first
    /// <paramref name="rowGroupSize"/> rows, and a later row that does not fit it (a new column, another type) is
    /// refused naming its line. Returns the number of rows written.
    /// </summary>
    public static long WriteStream(string path, IEnumerable<Example> rows, int rowGroupSize = DefaultRowGroupSize)
    {
        CheckGroupSize(rowGroupSize);
        using var groups = rows.Chunk(rowGroupSize).GetEnumerator();
        var first = groups.MoveNext() ? groups.Current : [];
        return WriteGroups(path, Infer(first), Rest(first, groups), check: true);

        static IEnumerable<Example[]> Rest(Example[] first, IEnumerator<Example[]> more)
        {
            yield return first;
            while (more.MoveNext()) yield return more.Current;
        }
    }

    private static void CheckGroupSize(int rowGroupSize)
    {
        if (rowGroupSize < 1) throw new ArgumentOutOfRangeException(nameof(rowGroupSize), rowGroupSize, "rowGroupSize must be at least 1");
    }

    private static List<(string Name, Shape Shape)> Infer(IEnumerable<Example> rows)
    {
        var columns = new List<(string Name, Shape Shape)>();
        foreach (var row in rows) Observe(columns, row);
        return columns;
    }

    private static void Observe(List<(string Name, Shape Shape)> columns, Example row)
    {
        foreach (var (name, node) in row.Fields)
        {
            int i = columns.FindIndex(c => c.Name == name);
            if (i < 0) { columns.Add((name, Shape.Null)); i = columns.Count - 1; }
            columns[i] = (name, Shape.Merge(columns[i].Shape, node, name, row.Line));
        }
    }

    private static long WriteGroups(string path, List<(string Name, Shape Shape)> columns, IEnumerable<Example[]> groups, bool check)
    {
        if (columns.Count == 0) throw new DataFormatException($"{path}: no columns to write (a Parquet file needs at least one)");
        var schema = new ParquetSchema(columns.Select(c => c.Shape.ToField(c.Name, path)).ToArray());
        var expected = string.Join(", ", columns.Select(c => $"{c.Name}: {c.Shape}"));
        var leaves = schema.GetDataFields().Select(d => (Leaf: d, Chain: ChainTo(schema.Fields, d))).ToList();
        long written = 0;
        Io.AtomicFile.Write(path, stream =>
        {
            var options = new ParquetOptions { CompressionMethod = CompressionMethod.Snappy };
            var writer = ParquetWriter.CreateAsync(schema, stream, options, false).GetAwaiter().GetResult();
            try
            {
                foreach (var rows in groups)
                {
                    if (check)
                        foreach (var row in rows)
                        {
                            var seen = new List<(string Name, Shape Shape)>(columns);
                            Observe(seen, row);
                            var now = string.Join(", ", seen.Select(c => $"{c.Name}: {c.Shape}"));
                            if (now != expected)
                                throw new DataFormatException($"{path}: line {row.Line}: the row does not fit the schema taken from the first rows " +
                                                              $"({expected}); with it the columns would be ({now})");
                        }
                    using var group = writer.CreateRowGroup();
                    foreach (var (leaf, chain) in leaves)
                    {
                        var column = new LeafBuffer(leaf);
                        foreach (var row in rows)
                            Stripe(chain, 0, row.Fields[chain[0].Name], 0, 0, column);
                        column.WriteTo(group);
                    }
                    group.CompleteValidate();
                    written += rows.Length;
                }
            }
            finally
            {
                writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        });
        return written;
    }

    // Splits one value into (value, definition level, repetition level) entries of one leaf (Dremel striping): a null
    // stops at the level defined so far, an empty list is defined up to the list, list elements after the first repeat
    // at the list's repetition level.
    private static void Stripe(IReadOnlyList<Field> chain, int k, JsonNode? value, int rep, int def, LeafBuffer column)
    {
        var field = chain[k];
        if (value is null)
        {
            column.Add(null, def, rep);
            return;
        }
        switch (field)
        {
            case DataField d:
                column.Add(value, d.MaxDefinitionLevel, rep);
                break;
            case StructField s:
                Stripe(chain, k + 1, ((JsonObject)value)[chain[k + 1].Name], rep, s.MaxDefinitionLevel, column);
                break;
            case ListField l:
                var array = (JsonArray)value;
                if (array.Count == 0) column.Add(null, l.MaxDefinitionLevel - 1, rep);
                for (int i = 0; i < array.Count; i++)
                    Stripe(chain, k + 1, array[i], i == 0 ? rep : l.MaxRepetitionLevel, l.MaxDefinitionLevel, column);
                break;
        }
    }

    private static List<Field> ChainTo(IEnumerable<Field> fields, DataField leaf)
    {
        foreach (var f in fields)
        {
            if (ReferenceEquals(f, leaf)) return [f];
            var children = f switch { StructField s => s.Fields, ListField l => [l.Item], _ => (IEnumerable<Field>)[] };
            var rest = ChainTo(children, leaf);
            if (rest.Count > 0) { rest.Insert(0, f); return rest; }
        }
        return [];
    }

    /// <summary>The entries of one leaf column in one row group.</summary>
    private sealed class LeafBuffer(DataField field)
    {
        private readonly List<JsonNode> _values = [];
        private readonly List<int> _definitions = [];
        private readonly List<int> _repetitions = [];

        public void Add(JsonNode? value, int definition, int repetition)
        {
            if (value is not null) _values.Add(value);
            _definitions.Add(definition);
            _repetitions.Add(repetition);
        }

        public void WriteTo(ParquetRowGroupWriter group)
        {
            ReadOnlyMemory<int>? defs = field.MaxDefinitionLevel == 0 ? null : _definitions.ToArray();
            ReadOnlyMemory<int>? reps = field.MaxRepetitionLevel == 0 ? null : _repetitions.ToArray();
            var t = field.ClrType;
            Task task =
                t == typeof(ReadOnlyMemory<char>) ? group.WriteAllPartsAsync<ReadOnlyMemory<char>>(field, _values.Select(v => v.GetValue<string>().AsMemory()).ToArray(), defs, reps, default)
                : t == typeof(long) ? group.WriteAllPartsAsync<long>(field, _values.Select(v => long.Parse(v.ToJsonString(), CultureInfo.InvariantCulture)).ToArray(), defs, reps, default)
                : t == typeof(double) ? group.WriteAllPartsAsync<double>(field, _values.Select(v => double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture)).ToArray(), defs, reps, default)
                : t == typeof(bool) ? group.WriteAllPartsAsync<bool>(field, _values.Select(v => v.GetValue<bool>()).ToArray(), defs, reps, default)
                : throw new InvalidOperationException($"no writer for {t.Name}");
            task.GetAwaiter().GetResult();
        }
    }

    /// <summary>The inferred type of a column (or of a list element or struct member).</summary>
    private sealed class Shape
    {
        public static readonly Shape Null = new(Kind.Null);
        private Shape(Kind kind) => What = kind;

        private enum Kind { Null, String, Integer, Float, Boolean, List, Struct }
        private Kind What { get; }
        private Shape? Element { get; init; }
        private List<(string Name, Shape Shape)>? Members { get; init; }

        public static Shape Merge(Shape seen, JsonNode? node, string column, int line)
        {
            if (node is null) return seen;
            var kind = node.GetValueKind();
            Shape next = kind switch
            {
                JsonValueKind.String => new Shape(Kind.String),
                JsonValueKind.True or JsonValueKind.False => new Shape(Kind.Boolean),
                JsonValueKind.Number => new Shape(long.TryParse(node.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _) ? Kind.Integer : Kind.Float),
                JsonValueKind.Array => MergeList(seen, (JsonArray)node, column, line),
                JsonValueKind.Object => MergeStruct(seen, (JsonObject)node, column, line),
                _ => seen,
            };
            if (seen.What == Kind.Null || seen.What == next.What) return next.What is Kind.List or Kind.Struct ? next : seen.What == Kind.Null ? next : seen;
            if (seen.What is Kind.Integer or Kind.Float && next.What is Kind.Integer or Kind.Float) return new Shape(Kind.Float);
            throw new DataFormatException($"line {line}: column '{column}' holds {Word(next.What)} here but {Word(seen.What)} in an earlier row; " +
                                          "a Parquet column holds one type");
        }

        private static Shape MergeList(Shape seen, JsonArray array, string column, int line)
        {
            var element = seen.What == Kind.List ? seen.Element! : Null;
            if (seen.What is not (Kind.List or Kind.Null)) return new Shape(Kind.List) { Element = element };
            foreach (var item in array) element = Merge(element, item, column + "[]", line);
            return new Shape(Kind.List) { Element = element };
        }

        private static Shape MergeStruct(Shape seen, JsonObject obj, string column, int line)
        {
            if (seen.What is not (Kind.Struct or Kind.Null)) return new Shape(Kind.Struct) { Members = [] };
            var members = seen.What == Kind.Struct ? new List<(string, Shape)>(seen.Members!) : [];
            foreach (var (name, value) in obj)
            {
                int i = members.FindIndex(m => m.Item1 == name);
                if (i < 0) { members.Add((name, Null)); i = members.Count - 1; }
                members[i] = (name, Merge(members[i].Item2, value, $"{column}.{name}", line));
            }
            return new Shape(Kind.Struct) { Members = members };
        }

        private static string Word(Kind k) => k switch
        {
            Kind.String => "a string", Kind.Integer or Kind.Float => "a number", Kind.Boolean => "a boolean",
            Kind.List => "a list", Kind.Struct => "an object", _ => "null",
        };

        /// <summary>The Parquet type this shape is written as (a column that was only ever null is written as strings).</summary>
        public override string ToString() => What switch
        {
            Kind.Null or Kind.String => "string", Kind.Integer => "int64", Kind.Float => "double", Kind.Boolean => "bool",
            Kind.List => $"list<{Element}>",
            _ => $"struct<{string.Join(", ", Members!.Select(m => $"{m.Name}: {m.Shape}"))}>",
        };

        public Field ToField(string name, string path) => What switch
        {
            Kind.Null or Kind.String => new DataField(name, typeof(string), true),
            Kind.Integer => new DataField(name, typeof(long), true),
            Kind.Float => new DataField(name, typeof(double), true),
            Kind.Boolean => new DataField(name, typeof(bool), true),
            Kind.List => new ListField(name, Element!.ToField(ListField.ElementName, path)),
            _ when Members!.Count == 0 => throw new DataFormatException($"{path}: column '{name}' only holds empty objects; a Parquet struct needs at least one member"),
            _ => new StructField(name, Members.Select(m => m.Shape.ToField(m.Name, path)).ToArray()),
        };
    }
}
