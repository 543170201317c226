using System.Text;

namespace FineTune.Kit.Evaluation;

/// <summary>Counts of (gold, predicted) label pairs. Rows are gold labels, columns are predicted labels.</summary>
public sealed class ConfusionMatrix
{
    private readonly int[,] _counts;
    private readonly Dictionary<string, int> _index;

    private ConfusionMatrix(IReadOnlyList<string> labels, int[,] counts)
    {
        Labels = labels;
        _counts = counts;
        _index = labels.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i, StringComparer.Ordinal);
    }

    /// <summary>The label order of rows and columns.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Number of examples with gold label <paramref name="gold"/> predicted as <paramref name="predicted"/>.</summary>
    public int this[string gold, string predicted] => _counts[IndexOf(gold), IndexOf(predicted)];

    /// <summary>Count by row (gold) and column (predicted) index.</summary>
    public int this[int goldIndex, int predictedIndex] => _counts[goldIndex, predictedIndex];

    /// <summary>Total number of examples.</summary>
    public int Total { get; private init; }

    /// <summary>
    /// Builds the matrix. Labels default to the sorted union of gold and predicted labels, so a class that is never
    /// predicted (or predicted but never gold) still gets its row and column.
    /// </summary>
    public static ConfusionMatrix From(IReadOnlyList<string> gold, IReadOnlyList<string> predicted, IReadOnlyList<string>? labels = null)
    {
        ClassificationMetrics.CheckSameLength(gold, predicted);
        var order = labels ?? ClassificationMetrics.LabelSet(gold, predicted);
        var index = order.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i, StringComparer.Ordinal);
        var counts = new int[order.Count, order.Count];
        for (var i = 0; i < gold.Count; i++)
        {
            if (!index.TryGetValue(gold[i], out var g))
                throw new DataFormatException($"example {i}: gold label '{gold[i]}' is not among the labels [{string.Join(", ", order)}]");
            if (!index.TryGetValue(predicted[i], out var p))
                throw new DataFormatException($"example {i}: predicted label '{predicted[i]}' is not among the labels [{string.Join(", ", order)}]");
            counts[g, p]++;
        }
        return new ConfusionMatrix(order, counts) { Total = gold.Count };
    }

    /// <summary>The counts as a jagged array, rows = gold (for charts and serialisation).</summary>
    public int[][] ToRows() =>
        Enumerable.Range(0, Labels.Count).Select(r => Enumerable.Range(0, Labels.Count).Select(c => _counts[r, c]).ToArray()).ToArray();

    /// <summary>A plain-text table, gold labels down the side, predictions across the top.</summary>
    public override string ToString()
    {
        var width = Math.Max(6, Labels.Max(l => l.Length) + 1);
        var sb = new StringBuilder("gold\\pred".PadRight(width));
        foreach (var l in Labels) sb.Append(l.PadLeft(width));
        sb.AppendLine();
        for (var r = 0; r < Labels.Count; r++)
        {
            sb.Append(Labels[r].PadRight(width));
            for (var c = 0; c < Labels.Count; c++) sb.Append(_counts[r, c].ToString().PadLeft(width));
            sb.AppendLine();
        }
        return sb.ToString();
    }

    private int IndexOf(string label) =>
        _index.TryGetValue(label, out var i) ? i : throw new ArgumentException($"label '{label}' is not in the confusion matrix");
}
