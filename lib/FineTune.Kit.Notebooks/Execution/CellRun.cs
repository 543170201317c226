namespace FineTune.Kit.Notebooks.Execution;

/// <summary>What happened to one code cell.</summary>
public enum CellStatus
{
    /// <summary>Ran to the end.</summary>
    Succeeded,
    /// <summary>Did not compile, threw, or used a directive the runner cannot satisfy.</summary>
    Failed,
    /// <summary>Ran past the per-cell time limit and was abandoned.</summary>
    TimedOut,
    /// <summary>Not C# (pwsh, F#, JavaScript, ...) or empty: left as it was.</summary>
    Skipped,
    /// <summary>Not run because an earlier cell failed.</summary>
    NotRun,
}

/// <summary>The outcome of one code cell.</summary>
/// <param name="CellNumber">1-based position of the cell in the notebook, markdown cells included.</param>
/// <param name="Status">What happened.</param>
/// <param name="Elapsed">Wall time of the cell (zero when it did not run).</param>
/// <param name="Error">The error message for a failed or timed-out cell.</param>
public sealed record CellRun(int CellNumber, CellStatus Status, TimeSpan Elapsed, string? Error = null);

/// <summary>The outcome of running one notebook; the notebook itself now holds the outputs.</summary>
/// <param name="Notebook">The executed notebook.</param>
/// <param name="Cells">One entry per code cell, in order.</param>
/// <param name="Elapsed">Wall time of the whole run.</param>
public sealed record NotebookRun(Model.Notebook Notebook, IReadOnlyList<CellRun> Cells, TimeSpan Elapsed)
{
    /// <summary>True when no cell failed or timed out.</summary>
    public bool Succeeded => Cells.All(c => c.Status is not (CellStatus.Failed or CellStatus.TimedOut));

    /// <summary>The failed and timed-out cells.</summary>
    public IEnumerable<CellRun> Errors => Cells.Where(c => c.Status is CellStatus.Failed or CellStatus.TimedOut);
}
