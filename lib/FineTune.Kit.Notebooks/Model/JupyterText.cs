using System.Text.Json.Nodes;

namespace FineTune.Kit.Notebooks.Model;

/// <summary>
/// Jupyter stores multi-line text either as one string or as a list of lines that keep their line ends; these helpers
/// read both and write the list form, as Jupyter front ends do.
/// </summary>
internal static class JupyterText
{
    /// <summary>Reads a string or a list of strings as one string.</summary>
    public static string Read(JsonNode? node, string where)
    {
        switch (node)
        {
            case null:
                return "";
            case JsonValue value when value.TryGetValue<string>(out var text):
                return text;
            case JsonArray lines:
                var sb = new System.Text.StringBuilder();
                for (int i = 0; i < lines.Count; i++)
                {
                    if (lines[i] is JsonValue line && line.TryGetValue<string>(out var part)) sb.Append(part);
                    else throw new DataFormatException($"{where}: item {i} is not a string");
                }
                return sb.ToString();
            default:
                throw new DataFormatException($"{where}: expected a string or a list of strings, found {node.GetValueKind()}");
        }
    }

    /// <summary>Splits text into lines that keep their '\n', the last one without it when the text does not end in one.</summary>
    public static JsonArray Lines(string text)
    {
        var array = new JsonArray();
        int start = 0;
        while (start < text.Length)
        {
            int nl = text.IndexOf('\n', start);
            int end = nl < 0 ? text.Length : nl + 1;
            array.Add(text[start..end]);
            start = end;
        }
        return array;
    }
}
