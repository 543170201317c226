namespace FineTune.Kit.Notebooks;

/// <summary>
/// A notebook could not be run as asked: an unknown package, a directive the headless runner does not support, a bad
/// parameter, a cell that ran past its time limit. The message names the notebook, the cell and what was expected.
/// </summary>
public class NotebookException(string message, Exception? inner = null) : KitException(message, inner);
