using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Io;

namespace FineTune.Kit.Notebooks.Model;

/// <summary>
/// A Jupyter notebook (nbformat 4) in the layout VS Code Polyglot Notebooks writes. The JSON is kept as read, so saving
/// changes only what the runner changed (outputs, execution counts, an injected parameters cell).
/// </summary>
public sealed class Notebook
{
    private static readonly JsonSerializerOptions WriteOptions = new()
    {
        WriteIndented = true,
        IndentSize = 1,                                       // what Jupyter and VS Code write
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // keeps HTML outputs readable (no \u003C)
    };

    private readonly JsonObject _root;
    private readonly JsonArray _cells;
    private readonly List<NotebookCell> _cellViews;

    private Notebook(JsonObject root, string? path)
    {
        var where = path ?? "notebook";
        _root = root;
        Path = path;
        int major = root["nbformat"] is JsonValue v && v.TryGetValue<int>(out var n) ? n
            : throw new DataFormatException($"{where}: missing \"nbformat\"; not a Jupyter notebook");
        if (major != 4) throw new DataFormatException($"{where}: nbformat {major} is not supported; expected nbformat 4");
        _cells = root["cells"] as JsonArray ?? throw new DataFormatException($"{where}: missing \"cells\" list");
        _cellViews = _cells.Select((c, i) => new NotebookCell(
            c as JsonObject ?? throw new DataFormatException($"{where}: cell {i + 1} is not an object"), $"{where}: cell {i + 1}")).ToList();
    }

    /// <summary>The file the notebook was read from, or null for one built in memory.</summary>
    public string? Path { get; private set; }

    /// <summary>The cells in file order.</summary>
    public IReadOnlyList<NotebookCell> Cells => _cellViews;

    /// <summary>
    /// The kernel of cells that name none: `polyglot_notebook.kernelInfo.defaultKernelName`, else the kernelspec's
    /// language, else C#.
    /// </summary>
    public string DefaultKernel
    {
        get
        {
            var meta = _root["metadata"];
            var name = (meta?["polyglot_notebook"]?["kernelInfo"]?["defaultKernelName"] as JsonValue)?.GetValue<string>()
                       ?? (meta?["kernelspec"]?["name"] as JsonValue)?.GetValue<string>();
            return name is null ? Kernels.CSharp : Kernels.Normalize(name);
        }
    }

    /// <summary>Reads a notebook file; malformed JSON or layout is reported with the file name and position.</summary>
    public static Notebook Load(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"notebook not found: {path}", path);
        return Parse(File.ReadAllText(full), full);
    }

    /// <summary>Reads a notebook from its JSON text; <paramref name="path"/> names it in errors and sets <see cref="Path"/>.</summary>
    public static Notebook Parse(string json, string? path = null)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new DataFormatException(
                $"{path ?? "notebook"}: invalid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}: {e.Message}", e);
        }
        return new Notebook(node as JsonObject ?? throw new DataFormatException($"{path ?? "notebook"}: not a JSON object"), path);
    }

    /// <summary>Starts an empty C# notebook in the Polyglot Notebooks layout; add cells with <see cref="Markdown"/> and <see cref="Code"/>.</summary>
    public static Notebook Create() => new(new JsonObject
    {
        ["cells"] = new JsonArray(),
        ["metadata"] = new JsonObject
        {
            ["kernelspec"] = new JsonObject { ["display_name"] = ".NET (C#)", ["language"] = "C#", ["name"] = ".net-csharp" },
            ["language_info"] = new JsonObject { ["name"] = "polyglot-notebook" },
            ["polyglot_notebook"] = new JsonObject
            {
                ["kernelInfo"] = new JsonObject
                {
                    ["defaultKernelName"] = Kernels.CSharp,
                    ["items"] = new JsonArray(new JsonObject { ["aliases"] = new JsonArray(), ["name"] = Kernels.CSharp }),
                },
            },
        },
        ["nbformat"] = 4,
        ["nbformat_minor"] = 2,
    }, null);

    /// <summary>Appends a markdown cell.</summary>
    public Notebook Markdown(string text)
    {
        Insert(_cells.Count, new JsonObject
        {
            ["cell_type"] = "markdown",
            ["metadata"] = new JsonObject(),
            ["source"] = JupyterText.Lines(text),
        });
        return this;
    }

    /// <summary>Appends a code cell of the given kernel (C# by default) with optional tags such as `parameters`.</summary>
    public Notebook Code(string source, string kernel = Kernels.CSharp, params string[] tags)
    {
        Insert(_cells.Count, CodeCellJson(source, kernel, tags));
        return this;
    }

    /// <summary>The notebook as JSON text, indented as Jupyter writes it.</summary>
    public string ToJson() => _root.ToJsonString(WriteOptions) + "\n";

    /// <summary>Writes the notebook atomically; it remembers the new path.</summary>
    public void Save(string path)
    {
        AtomicFile.WriteAllText(path, ToJson());
        Path = System.IO.Path.GetFullPath(path);
    }

    internal JsonObject Metadata => _root["metadata"] as JsonObject ?? (JsonObject)(_root["metadata"] = new JsonObject());

    internal NotebookCell InsertCodeCell(int index, string source, string kernel, params string[] tags) =>
        Insert(index, CodeCellJson(source, kernel, tags));

    internal void RemoveCell(NotebookCell cell)
    {
        int index = _cellViews.IndexOf(cell);
        _cellViews.RemoveAt(index);
        _cells.RemoveAt(index);
    }

    private JsonObject CodeCellJson(string source, string kernel, string[] tags)
    {
        var metadata = new JsonObject { ["polyglot_notebook"] = new JsonObject { ["kernelName"] = Kernels.Normalize(kernel) } };
        if (tags.Length > 0) metadata["tags"] = new JsonArray(tags.Select(t => (JsonNode)t!).ToArray());
        return new JsonObject
        {
            ["cell_type"] = "code",
            ["execution_count"] = null,
            ["metadata"] = metadata,
            ["outputs"] = new JsonArray(),
            ["source"] = JupyterText.Lines(source),
        };
    }

    private NotebookCell Insert(int index, JsonObject json)
    {
        // nbformat 4.5 and later require a unique id on every cell
        if (_root["nbformat_minor"] is JsonValue minor && minor.TryGetValue<int>(out var m) && m >= 5)
            json.Insert(0, "id", UniqueId());
        _cells.Insert(index, json);
        var view = new NotebookCell(json, $"cell {index + 1}");
        _cellViews.Insert(index, view);
        return view;
    }

    private string UniqueId()
    {
        var taken = _cells.OfType<JsonObject>().Select(c => (string?)c["id"]).ToHashSet();
        for (int i = 1; ; i++)
            if (!taken.Contains($"ftk-{i}")) return $"ftk-{i}";
    }
}
