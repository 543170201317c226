using FineTune.Kit.Notebooks.Execution;
using FineTune.Kit.Plots;

namespace FineTune.Kit.Notebooks;

/// <summary>
/// Members every notebook cell can call without a prefix, as in Polyglot Notebooks: `display(value)` adds a rich
/// output (chart, table, report) to the cell.
/// </summary>
public class NotebookGlobals
{
    /// <summary>Shows a value as an output of the running cell (a chart, a DataFrame, a kit report, any object).</summary>
#pragma warning disable IDE1006 // the Polyglot Notebooks name, lower case
    public DisplayedValue display(object? value) => NotebookDisplay.Show(value);
#pragma warning restore IDE1006

    /// <summary>Same as <see cref="display"/>.</summary>
    public DisplayedValue Display(object? value) => NotebookDisplay.Show(value);
}

/// <summary>`value.Display()`, as in Polyglot Notebooks.</summary>
public static class NotebookDisplay
{
    /// <summary>Shows a value as an output of the running cell; outside a notebook it prints the value's plain text.</summary>
    public static DisplayedValue Show(object? value)
    {
        if (NotebookContext.Cell is { } cell) return new DisplayedValue(cell, cell.Display(value));
        Console.WriteLine(PlainText.Format(value));
        return new DisplayedValue(null, -1);
    }

    /// <summary>Shows the value as an output of the running cell.</summary>
    public static DisplayedValue Display(this object? value) => Show(value);
}

/// <summary>
/// A displayed output that can be replaced in place, e.g. a progress line of a training loop:
/// `var progress = display("step 0"); ... progress.Update($"step {i}");`.
/// </summary>
public sealed class DisplayedValue
{
    private readonly CellOutputCollector? _cell;
    private readonly int _position;

    internal DisplayedValue(CellOutputCollector? cell, int position) => (_cell, _position) = (cell, position);

    /// <summary>Replaces the output with a new value (outside a notebook, prints it).</summary>
    public void Update(object? value)
    {
        if (_cell is not null) _cell.Update(_position, value);
        else Console.WriteLine(PlainText.Format(value));
    }

    /// <summary>A short description; the handle itself is never shown as a cell result.</summary>
    public override string ToString() => "displayed value";
}
