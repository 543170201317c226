using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTune.Kit.Data;

/// <summary>
/// One row of a dataset: its fields as a JSON object plus the line of the source file it came from, so that every
/// report can point back at the input. Examples are treated as immutable; the <c>With</c> methods return copies.
/// </summary>
public sealed class Example
{
    /// <summary>The columns that hold free text in the common shapes (plain, prompt/completion, preference, chat).</summary>
    public static readonly IReadOnlyList<string> DefaultTextColumns = ["text", "prompt", "completion", "chosen", "rejected", "messages"];

    /// <summary>Creates an example from its fields and the 1-based line (or row number) it came from.</summary>
    public Example(JsonObject fields, int line)
    {
        Fields = fields;
        Line = line;
    }

    /// <summary>The row's fields. Do not mutate: copies share nothing, but rules rely on examples not changing.</summary>
    public JsonObject Fields { get; }

    /// <summary>1-based line of the source file where the row starts (for in-memory data, the 1-based row number).</summary>
    public int Line { get; }

    /// <summary>The column names of this row, in order.</summary>
    public IEnumerable<string> Columns => Fields.Select(p => p.Key);

    /// <summary>A column as text: strings as they are, other JSON values as JSON, missing or null as null.</summary>
    public string? this[string column] => Fields.TryGetPropertyValue(column, out var node) ? AsText(node) : null;

    /// <summary>True when the row has the column (even if its value is null).</summary>
    public bool Has(string column) => Fields.ContainsKey(column);

    /// <summary>A copy with one column set to a string (or removed when <paramref name="value"/> is null).</summary>
    public Example With(string column, string? value) => With(column, value is null ? null : JsonValue.Create(value));

    /// <summary>A copy with one column set to a JSON value (or removed when <paramref name="value"/> is null).</summary>
    public Example With(string column, JsonNode? value)
    {
        var copy = (JsonObject)Fields.DeepClone();
        if (value is null) copy.Remove(column);
        else copy[column] = value.Parent is null ? value : value.DeepClone();
        return new Example(copy, Line);
    }

    /// <summary>
    /// Applies a text transformation to every text field among <paramref name="columns"/> (default
    /// <see cref="DefaultTextColumns"/>); for a chat <c>messages</c> array it transforms each message's content.
    /// Returns this same instance when nothing changed.
    /// </summary>
    public Example MapText(Func<string, string> transform, IReadOnlyList<string>? columns = null)
    {
        JsonObject? copy = null;
        foreach (var column in columns ?? DefaultTextColumns)
        {
            if (!Fields.TryGetPropertyValue(column, out var node) || node is null) continue;
            if (node is JsonValue v && v.TryGetValue<string>(out var s))
            {
                var t = transform(s);
                if (t == s) continue;
                copy ??= (JsonObject)Fields.DeepClone();
                copy[column] = t;
            }
            else if (node is JsonArray messages)
            {
                for (int i = 0; i < messages.Count; i++)
                {
                    if (messages[i] is not JsonObject m || !m.TryGetPropertyValue("content", out var c)
                        || c is not JsonValue cv || !cv.TryGetValue<string>(out var content)) continue;
                    var t = transform(content);
                    if (t == content) continue;
                    copy ??= (JsonObject)Fields.DeepClone();
                    ((JsonObject)((JsonArray)copy[column]!)[i]!)["content"] = t;
                }
            }
        }
        return copy is null ? this : new Example(copy, Line);
    }

    /// <summary>
    /// The text content of the row: the text fields among <paramref name="columns"/> joined by newlines (chat messages
    /// contribute their contents). Used for length filters and duplicate detection.
    /// </summary>
    public string Content(IReadOnlyList<string>? columns = null)
    {
        var sb = new StringBuilder();
        foreach (var column in columns ?? DefaultTextColumns)
        {
            if (!Fields.TryGetPropertyValue(column, out var node) || node is null) continue;
            if (node is JsonValue v && v.TryGetValue<string>(out var s)) Append(sb, s);
            else if (node is JsonArray messages)
                foreach (var m in messages)
                    if (m is JsonObject o && o["content"] is JsonValue cv && cv.TryGetValue<string>(out var c)) Append(sb, c);
        }
        return sb.ToString();

        static void Append(StringBuilder sb, string s)
        {
            if (sb.Length > 0) sb.Append('\n');
            sb.Append(s);
        }
    }

    /// <summary>The row as one line of JSON.</summary>
    public string ToJson() => Fields.ToJsonString(Json.Compact);

    /// <inheritdoc/>
    public override string ToString() => $"line {Line}: {ToJson()}";

    internal static string? AsText(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => node.ToJsonString(Json.Compact),
    };
}

/// <summary>Serializer settings shared by the data stage: compact, non-ASCII text kept readable.</summary>
internal static class Json
{
    public static readonly JsonSerializerOptions Compact = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
    };

    public static readonly JsonSerializerOptions Indented = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = true,
    };
}
