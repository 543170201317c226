namespace FineTune.Kit.Explain;

/// <summary>
/// Evaluates the explained quantity f on a batch of coalitions: <c>coalitions[i][j] == true</c> means feature j is
/// present in row i. Returns one value per row, in order (for a language model: the log-probability of the target
/// continuation given the text with the absent features masked).
/// </summary>
public delegate double[] CoalitionValue(IReadOnlyList<bool[]> coalitions);

/// <summary>How far an explanation has got: distinct coalitions evaluated and calls of the value function so far.</summary>
public readonly record struct ExplainProgress(int Evaluations, int Calls);
