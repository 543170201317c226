using System.Globalization;
using System.Text.Json.Nodes;
using FineTune.Kit.Serving;
using Spectre.Console;

namespace FineTune.Kit.Cli.Commands;

/// <summary>
/// What `ftk info FILE.gguf` shows: the header, every metadata entry (long arrays as their type, length and first
/// items) and the tensor table — name, type, shape, values and bytes — read with <see cref="GgufFile"/>.
/// </summary>
internal static class GgufInfo
{
    /// <summary>Arrays longer than this are shown by their first items only (a vocabulary has thousands).</summary>
    private const int ArrayItems = 8;

    /// <summary>The file described as JSON: every number, tensors in file order.</summary>
    public static JsonObject Json(GgufFile file)
    {
        var metadata = new JsonObject();
        foreach (var (key, value) in file.MetadataInOrder) metadata[key] = Value(value);
        var tensors = new JsonArray();
        foreach (var t in file.Tensors)
            tensors.Add(new JsonObject
            {
                ["name"] = t.Name, ["type"] = t.Type.ToString(),
                ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode?)d).ToArray()),
                ["ggml_dimensions"] = new JsonArray(t.Dimensions.Select(d => (JsonNode?)d).ToArray()),
                ["elements"] = t.ElementCount, ["bytes"] = Gguf.ByteSize(t.Type, t.ElementCount), ["offset"] = t.Offset,
            });
        var byType = new JsonObject();
        foreach (var g in file.Tensors.GroupBy(t => t.Type).OrderBy(g => g.Key))
            byType[g.Key.ToString()] = new JsonObject
            {
                ["tensors"] = g.Count(), ["elements"] = g.Sum(t => t.ElementCount), ["bytes"] = g.Sum(t => Gguf.ByteSize(t.Type, t.ElementCount)),
            };
        return new JsonObject
        {
            ["file"] = file.Path, ["file_bytes"] = new FileInfo(file.Path).Length, ["version"] = file.Version, ["alignment"] = file.Alignment,
            ["data_offset"] = file.DataOffset, ["metadata"] = metadata, ["tensors"] = tensors,
            ["totals"] = new JsonObject
            {
                ["tensors"] = file.Tensors.Count, ["elements"] = file.Tensors.Sum(t => t.ElementCount),
                ["bytes"] = file.Tensors.Sum(t => Gguf.ByteSize(t.Type, t.ElementCount)), ["by_type"] = byType,
            },
        };
    }

    private static JsonNode? Value(GgufValue value) => value.Value switch
    {
        Array array when array.Length <= ArrayItems => new JsonArray(array.Cast<object>().Select(Scalar).ToArray()),
        Array array => new JsonObject
        {
            ["element_type"] = value.ElementType?.ToString(), ["count"] = array.Length,
            ["first"] = new JsonArray(array.Cast<object>().Take(ArrayItems).Select(Scalar).ToArray()),
        },
        var scalar => Scalar(scalar),
    };

    private static JsonNode? Scalar(object value) => value switch
    {
        string s => s, bool b => b, float f => f, double d => d, byte n => n, sbyte n => n, short n => n, ushort n => n,
        int n => n, uint n => n, long n => n, ulong n => n,
        _ => value.ToString(),
    };

    /// <summary>Two tables on the console: metadata, then tensors with their totals.</summary>
    public static void Print(GgufFile file)
    {
        var bytes = new FileInfo(file.Path).Length;
        Console.WriteLine($"{file.Path}: GGUF v{file.Version}, {file.MetadataInOrder.Count} metadata entries, {file.Tensors.Count} tensors, " +
                          $"{Size(bytes)} (data from byte {file.DataOffset}, aligned to {file.Alignment})");
        var meta = new Table().AddColumn("key").AddColumn("type").AddColumn("value");
        foreach (var (key, value) in file.MetadataInOrder)
        {
            var type = value.ElementType is { } element ? $"{element}[{((Array)value.Value).Length}]" : value.Type.ToString();
            meta.AddRow(Markup.Escape(key), Markup.Escape(type), Markup.Escape(Shown(value)));
        }
        Cli.Out.Write(meta);
        var tensors = new Table().AddColumn("tensor").AddColumn("type").AddColumn("shape")
            .AddColumn(new TableColumn("values").RightAligned()).AddColumn(new TableColumn("bytes").RightAligned());
        foreach (var t in file.Tensors)
            tensors.AddRow(Markup.Escape(t.Name), t.Type.ToString(), string.Join(" × ", t.Shape),
                t.ElementCount.ToString("N0", CultureInfo.InvariantCulture), Size(Gguf.ByteSize(t.Type, t.ElementCount)));
        var total = file.Tensors.Sum(t => t.ElementCount);
        tensors.AddRow("[bold]total[/]", string.Join(", ", file.Tensors.GroupBy(t => t.Type).OrderBy(g => g.Key).Select(g => $"{g.Key} ×{g.Count()}")), "",
            total.ToString("N0", CultureInfo.InvariantCulture), Size(file.Tensors.Sum(t => Gguf.ByteSize(t.Type, t.ElementCount))));
        Cli.Out.Write(tensors);
    }

    private static string Shown(GgufValue value)
    {
        if (value.Value is not Array array) return value.ToString();
        var items = array.Cast<object>().Take(ArrayItems).Select(o => o is string s ? $"\"{s}\"" : Convert.ToString(o, CultureInfo.InvariantCulture));
        return $"[{string.Join(", ", items)}{(array.Length > ArrayItems ? ", …" : "")}]";
    }

    private static string Size(long bytes) => bytes switch
    {
        >= 1 << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1 << 30):F2} GiB"),
        >= 1 << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1 << 20):F2} MiB"),
        >= 1 << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        _ => $"{bytes} B",
    };
}
