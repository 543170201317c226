namespace FineTune.Kit.Evaluation;

/// <summary>Metrics of one slice of the test set (one value of a grouping column), for fairness and robustness checks.</summary>
/// <param name="Group">The column value that defines the slice.</param>
/// <param name="Count">Examples in the slice.</param>
/// <param name="Accuracy">Accuracy within the slice.</param>
/// <param name="MacroF1">Macro-F1 within the slice over the labels that occur in it (gold or predicted).</param>
/// <param name="AccuracyGapToOverall">Slice accuracy minus overall accuracy (negative: the slice is served worse).</param>
public sealed record SliceMetrics(string Group, int Count, double Accuracy, double MacroF1, double AccuracyGapToOverall)
{
    /// <summary>Per-group metrics; groups are sorted by name.</summary>
    public static IReadOnlyList<SliceMetrics> Compute(IReadOnlyList<string> groups, IReadOnlyList<string> gold,
        IReadOnlyList<string> predicted)
    {
        ClassificationMetrics.CheckSameLength(groups, gold);
        ClassificationMetrics.CheckSameLength(gold, predicted);
        var overall = ClassificationMetrics.Accuracy(gold, predicted);
        return Enumerable.Range(0, gold.Count)
            .GroupBy(i => groups[i], StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g =>
            {
                var gg = g.Select(i => gold[i]).ToArray();
                var pp = g.Select(i => predicted[i]).ToArray();
                var acc = ClassificationMetrics.Accuracy(gg, pp);
                return new SliceMetrics(g.Key, gg.Length, acc, ClassificationMetrics.MacroF1(gg, pp), acc - overall);
            })
            .ToArray();
    }
}
