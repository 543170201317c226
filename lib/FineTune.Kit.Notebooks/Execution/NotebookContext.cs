namespace FineTune.Kit.Notebooks.Execution;

/// <summary>
/// The cell being run. An async-local, so threads and tasks a cell starts write into that cell's outputs, and the
/// runner's own console messages (outside any cell) go to the real console.
/// </summary>
internal static class NotebookContext
{
    private static readonly AsyncLocal<CellOutputCollector?> Current = new();

    public static CellOutputCollector? Cell
    {
        get => Current.Value;
        set => Current.Value = value;
    }
}
