using FineTune.Kit.Notebooks.Execution;
using FineTune.Kit.Notebooks.Formatting;

namespace FineTune.Kit.Notebooks;

/// <summary>
/// Members every notebook cell can call without a prefix, as in Polyglot Notebooks: `display(value)` adds a rich
/// output (chart, table, report) to the cell.
/// </summary>
public class NotebookGlobals
{
    /// <summary>Shows a value as an output of the running cell (a chart, a DataFrame, a kit report, any object).</summary>
#pragma warning disable IDE1006 // the Polyglot Notebooks name, lower case
    public void display(object? value) => NotebookDisplay.Show(value);
#pragma warning restore IDE1006

    /// <summary>Same as <see cref="display"/>.</summary>
    public void Display(object? value) => NotebookDisplay.Show(value);
}

/// <summary>`value.Display()`, as in Polyglot Notebooks.</summary>
public static class NotebookDisplay
{
    /// <summary>Shows a value as an output of the running cell; outside a notebook it prints the value's plain text.</summary>
    public static void Show(object? value)
    {
        if (NotebookContext.Cell is { } cell) cell.Display(value);
        else Console.WriteLine(PlainText.Format(value));
    }

    /// <summary>Shows the value as an output of the running cell.</summary>
    public static void Display(this object? value) => Show(value);
}
