using System.Text.Json.Nodes;

namespace FineTune.Kit.Notebooks.Model;

/// <summary>
/// One cell of a notebook, a view over its JSON so that metadata the kit does not know about is kept as it was.
/// </summary>
public sealed class NotebookCell
{
    internal NotebookCell(JsonObject json, string where)
    {
        Json = json;
        CellType = json["cell_type"] is JsonValue v && v.TryGetValue<string>(out var type)
            ? type
            : throw new DataFormatException($"{where}: missing \"cell_type\"");
        Source = JupyterText.Read(json["source"], $"{where} \"source\"");
    }

    internal JsonObject Json { get; }

    /// <summary>`code`, `markdown` or `raw`.</summary>
    public string CellType { get; }

    /// <summary>True for a code cell.</summary>
    public bool IsCode => CellType == "code";

    /// <summary>The cell's text.</summary>
    public string Source { get; }

    /// <summary>The cell's tags (`metadata.tags`), e.g. `parameters`.</summary>
    public IReadOnlyList<string> Tags =>
        Json["metadata"]?["tags"] is JsonArray tags
            ? tags.Select(t => t is JsonValue v && v.TryGetValue<string>(out var s) ? s : "").Where(s => s != "").ToList()
            : [];

    /// <summary>
    /// The kernel the cell's metadata names (`polyglot_notebook.kernelName`, or the older `dotnet_interactive.language`),
    /// or null when it names none and the notebook's default applies.
    /// </summary>
    public string? KernelName =>
        Text(Json["metadata"]?["polyglot_notebook"]?["kernelName"]) ?? Text(Json["metadata"]?["dotnet_interactive"]?["language"]);

    /// <summary>The execution count a front end shows as `[n]`, null when the cell has not run.</summary>
    public int? ExecutionCount
    {
        get => Json["execution_count"] is JsonValue v && v.TryGetValue<int>(out var n) ? n : null;
        internal set => Json["execution_count"] = value;
    }

    /// <summary>The cell's outputs as Jupyter stores them (`stream`, `display_data`, `execute_result`, `error`).</summary>
    public IReadOnlyList<JsonObject> Outputs =>
        Json["outputs"] is JsonArray outputs ? outputs.OfType<JsonObject>().ToList() : [];

    /// <summary>The text of every output of one kind joined, e.g. all `stdout` or all `text/html` (for checks and tests).</summary>
    public string OutputText(string streamOrMime) =>
        string.Concat(Outputs.Select(o => (string?)o["output_type"] == "stream"
            ? (string?)o["name"] == streamOrMime ? JupyterText.Read(o["text"], "output") : ""
            : o["data"]?[streamOrMime] is { } data ? JupyterText.Read(data, "output") : ""));

    internal void ClearOutputs()
    {
        Json["outputs"] = new JsonArray();
        Json["execution_count"] = null;
    }

    internal void AddOutput(JsonObject output)
    {
        if (Json["outputs"] is not JsonArray outputs) Json["outputs"] = outputs = new JsonArray();
        outputs.Add(output);
    }

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
