namespace FineTune.Kit.Data;

/// <summary>A text with its gold label, and optional extra columns (language, source, user group...) to slice metrics by.</summary>
/// <param name="Text">The input text.</param>
/// <param name="Label">The gold label.</param>
/// <param name="Columns">Extra attributes by column name; null when there are none.</param>
public sealed record LabeledExample(string Text, string Label, IReadOnlyDictionary<string, string>? Columns = null)
{
    /// <summary>The value of a column, or throws naming the column and the example when it is missing.</summary>
    public string Column(string name) =>
        Columns is not null && Columns.TryGetValue(name, out var v)
            ? v
            : throw new DataFormatException($"example \"{Shorten(Text)}\" has no column '{name}' to slice by");

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..37] + "...";
}
