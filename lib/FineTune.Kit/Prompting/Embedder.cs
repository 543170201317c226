namespace FineTune.Kit.Prompting;

/// <summary>
/// Turns texts into fixed-size vectors, e.g. mean-pooled hidden states of a language model. All vectors must have the
/// same length; they need not be normalised.
/// </summary>
public delegate float[][] Embedder(IReadOnlyList<string> texts);
