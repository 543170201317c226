using System.Text;

namespace FineTune.Kit.Notebooks.Execution;

/// <summary>
/// Stands in for Console.Out or Console.Error while a notebook runs: text written inside a cell becomes that cell's
/// `stdout`/`stderr` stream output; text written outside any cell goes to the real console.
/// </summary>
internal sealed class ConsoleRouter(string stream, TextWriter fallback) : TextWriter
{
    public override Encoding Encoding => fallback.Encoding;

    public override void Write(char value) => Write(value.ToString());

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void Write(string? value)
    {
        if (value is null) return;
        if (NotebookContext.Cell is { } cell) cell.Write(stream, value);
        else fallback.Write(value);
    }

    public override void WriteLine(string? value) => Write(value + NewLine);

    public override void Flush()
    {
        if (NotebookContext.Cell is null) fallback.Flush();
    }
}
