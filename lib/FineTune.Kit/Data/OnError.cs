namespace FineTune.Kit.Data;

/// <summary>What a loader does with a malformed row.</summary>
public enum OnError
{
    /// <summary>Stop with a <see cref="DataFormatException"/> naming the file and line (the default).</summary>
    Fail,

    /// <summary>Leave the row out and record it, with its line and the reason, in <see cref="Dataset.InvalidRows"/>.</summary>
    Skip,
}

/// <summary>A row a loader could not read: where it was and why.</summary>
/// <param name="Line">1-based line of the file where the row starts.</param>
/// <param name="Error">What was wrong.</param>
/// <param name="Source">The file the row came from.</param>
public sealed record InvalidRow(int Line, string Error, string? Source = null);
