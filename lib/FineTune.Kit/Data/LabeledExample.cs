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

    /// <summary>
    /// The text rows of a data set as examples, in order, at most <paramref name="max"/> of them. A row without a label
    /// is an error naming its line: an example without a gold label cannot be trained on or scored.
    /// </summary>
    public static List<LabeledExample> From(Dataset data, int max = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (max < 0) throw new ArgumentException($"max must be 0 or more, got {max}", nameof(max));
        return data.AsText().Take(max)
            .Select(r => new LabeledExample(r.Text, r.Label ?? throw new DataFormatException($"line {r.Line}: the row has no label")))
            .ToList();
    }

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..37] + "...";
}
