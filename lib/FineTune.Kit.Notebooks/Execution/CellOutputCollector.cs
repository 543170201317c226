using System.Text;
using System.Text.Json.Nodes;
using FineTune.Kit.Plots;
using FineTune.Kit.Notebooks.Model;

namespace FineTune.Kit.Notebooks.Execution;

/// <summary>
/// Gathers one cell's outputs in the order they happen: console text (consecutive writes to one stream merge into
/// one `stream` output), displayed values, the result and errors. Thread-safe: cells may write from other threads.
/// </summary>
internal sealed class CellOutputCollector(DisplayFormatter formatter)
{
    private readonly object _gate = new();
    private readonly List<object> _outputs = []; // StreamText or a finished JsonObject
    private bool _sealed;

    public void Write(string stream, string text)
    {
        if (text.Length == 0) return;
        lock (_gate)
        {
            if (_sealed) return; // a thread of a timed-out cell writing late
            if (_outputs.Count > 0 && _outputs[^1] is StreamText last && last.Name == stream) last.Text.Append(text);
            else _outputs.Add(new StreamText(stream, new StringBuilder(text)));
        }
    }

    /// <summary>Adds a display output; the returned position lets <see cref="Update"/> replace it later.</summary>
    public int Display(object? value)
    {
        var output = Bundle("display_data", formatter.Format(value));
        lock (_gate)
        {
            if (_sealed) return -1;
            _outputs.Add(output);
            return _outputs.Count - 1;
        }
    }

    /// <summary>Replaces the content of an earlier display output (a progress line that changes, say).</summary>
    public void Update(int position, object? value)
    {
        var output = Bundle("display_data", formatter.Format(value));
        lock (_gate)
            if (!_sealed && position >= 0 && position < _outputs.Count) _outputs[position] = output;
    }

    public void Result(object? value, int executionCount)
    {
        var output = Bundle("execute_result", formatter.Format(value));
        output.Insert(1, "execution_count", executionCount);
        Add(output);
    }

    public void Error(string ename, string evalue, IEnumerable<string> traceback) =>
        Add(new JsonObject
        {
            ["output_type"] = "error",
            ["ename"] = ename,
            ["evalue"] = evalue,
            ["traceback"] = new JsonArray(traceback.Select(l => (JsonNode)l!).ToArray()),
        });

    /// <summary>The outputs as Jupyter stores them; later writes are ignored.</summary>
    public IReadOnlyList<JsonObject> Seal()
    {
        lock (_gate)
        {
            _sealed = true;
            return _outputs.Select(o => o is StreamText stream
                ? new JsonObject { ["output_type"] = "stream", ["name"] = stream.Name, ["text"] = JupyterText.Lines(stream.Text.ToString()) }
                : (JsonObject)o).ToList();
        }
    }

    private void Add(JsonObject output)
    {
        lock (_gate)
            if (!_sealed) _outputs.Add(output);
    }

    private sealed record StreamText(string Name, StringBuilder Text);

    private static JsonObject Bundle(string outputType, MimeBundle bundle)
    {
        var data = new JsonObject();
        foreach (var (mime, content) in bundle.Items) data[mime] = JupyterText.Lines(content);
        return new JsonObject { ["output_type"] = outputType, ["data"] = data, ["metadata"] = new JsonObject() };
    }
}
