namespace FineTune.Kit.Data.Curation;

/// <summary>A row whose given label disagrees confidently with out-of-fold predictions.</summary>
/// <param name="Index">Row index in the input.</param>
/// <param name="GivenLabel">The label in the data.</param>
/// <param name="SuggestedLabel">The class the model is confident about instead.</param>
/// <param name="SelfConfidence">Predicted probability of the given label (lower is more suspicious).</param>
public sealed record LabelIssue(int Index, string GivenLabel, string SuggestedLabel, double SelfConfidence);

/// <summary>
/// Label-noise candidates in the style of confident learning (Northcutt et al.): per class j a threshold t_j is the
/// mean predicted probability of j over the rows labelled j. A row labelled y counts as "confidently j" for the class j
/// with the highest probability among those with p_j ≥ t_j. Rows that are confidently some j ≠ y are candidates,
/// sorted by self-confidence p_y ascending. The probabilities must be out-of-fold, or the model simply repeats the
/// labels it was trained on.
/// </summary>
public static class ConfidentLearning
{
    /// <summary>Finds candidates from a probability matrix (rows: examples, columns: <paramref name="classes"/>).</summary>
    public static IReadOnlyList<LabelIssue> FindIssues(IReadOnlyList<string> labels, IReadOnlyList<double[]> probabilities, IReadOnlyList<string> classes)
    {
        if (labels.Count != probabilities.Count)
            throw new ArgumentException($"{labels.Count} labels but {probabilities.Count} probability rows");
        var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
        var thresholds = PerClassThresholds(labels, probabilities, classes);
        var issues = new List<LabelIssue>();
        for (int i = 0; i < labels.Count; i++)
        {
            var p = probabilities[i];
            if (p.Length != classes.Count) throw new ArgumentException($"probability row {i} has {p.Length} values for {classes.Count} classes");
            if (!index.TryGetValue(labels[i], out var y)) throw new ArgumentException($"row {i}: label '{labels[i]}' is not among the classes");
            int confident = -1;
            for (int j = 0; j < p.Length; j++)
                if (p[j] >= thresholds[j] && (confident < 0 || p[j] > p[confident])) confident = j;
            if (confident >= 0 && confident != y) issues.Add(new LabelIssue(i, labels[i], classes[confident], p[y]));
        }
        return issues.OrderBy(x => x.SelfConfidence).ToList();
    }

    /// <summary>t_j: mean probability of class j over rows labelled j (∞ for a class with no rows, so it is never chosen).</summary>
    public static double[] PerClassThresholds(IReadOnlyList<string> labels, IReadOnlyList<double[]> probabilities, IReadOnlyList<string> classes)
    {
        var sum = new double[classes.Count];
        var n = new int[classes.Count];
        var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
        for (int i = 0; i < labels.Count; i++)
            if (index.TryGetValue(labels[i], out var y)) { sum[y] += probabilities[i][y]; n[y]++; }
        return sum.Select((s, j) => n[j] == 0 ? double.PositiveInfinity : s / n[j]).ToArray();
    }
}
