namespace FineTune.Kit.Evaluation;

/// <summary>Precision, recall and F1 of one class, with its support (number of gold examples).</summary>
public sealed record ClassMetrics(string Label, double Precision, double Recall, double F1, int Support, int Predicted);

/// <summary>
/// Point metrics for single-label classification. Division by zero counts as 0 (a class never predicted has precision 0),
/// which is the convention of scikit-learn with zero_division=0.
/// </summary>
public static class ClassificationMetrics
{
    /// <summary>Fraction of examples whose prediction equals the gold label.</summary>
    public static double Accuracy(IReadOnlyList<string> gold, IReadOnlyList<string> predicted)
    {
        CheckSameLength(gold, predicted);
        if (gold.Count == 0) throw new ArgumentException("accuracy of an empty set is undefined");
        var hits = 0;
        for (var i = 0; i < gold.Count; i++) if (string.Equals(gold[i], predicted[i], StringComparison.Ordinal)) hits++;
        return (double)hits / gold.Count;
    }

    /// <summary>Per-class precision/recall/F1 over <paramref name="labels"/> (default: sorted union of gold and predicted).</summary>
    public static IReadOnlyList<ClassMetrics> PerClass(IReadOnlyList<string> gold, IReadOnlyList<string> predicted, IReadOnlyList<string>? labels = null)
    {
        var cm = ConfusionMatrix.From(gold, predicted, labels);
        var k = cm.Labels.Count;
        var result = new List<ClassMetrics>(k);
        for (var c = 0; c < k; c++)
        {
            int tp = cm[c, c], support = 0, predictedCount = 0;
            for (var j = 0; j < k; j++) { support += cm[c, j]; predictedCount += cm[j, c]; }
            var (p, r, f) = Prf(tp, predictedCount, support);
            result.Add(new ClassMetrics(cm.Labels[c], p, r, f, support, predictedCount));
        }
        return result;
    }

    /// <summary>
    /// Unweighted mean of per-class F1 over <paramref name="labels"/> (default: union of gold and predicted labels).
    /// A gold class the model never predicts contributes F1 = 0, so ignoring a rare class is penalised.
    /// </summary>
    public static double MacroF1(IReadOnlyList<string> gold, IReadOnlyList<string> predicted, IReadOnlyList<string>? labels = null) =>
        PerClass(gold, predicted, labels).Average(m => m.F1);

    /// <summary>Macro-F1 on label indices (fast path for bootstrap resampling).</summary>
    internal static double MacroF1(int[] gold, int[] predicted, int classes, int[]? sample = null)
    {
        Span<int> tp = stackalloc int[classes], goldCount = stackalloc int[classes], predCount = stackalloc int[classes];
        var n = sample?.Length ?? gold.Length;
        for (var s = 0; s < n; s++)
        {
            var i = sample is null ? s : sample[s];
            goldCount[gold[i]]++;
            predCount[predicted[i]]++;
            if (gold[i] == predicted[i]) tp[gold[i]]++;
        }
        double sum = 0;
        for (var c = 0; c < classes; c++) sum += Prf(tp[c], predCount[c], goldCount[c]).F1;
        return sum / classes;
    }

    internal static (double Precision, double Recall, double F1) Prf(int truePositives, int predicted, int support)
    {
        var p = predicted == 0 ? 0 : (double)truePositives / predicted;
        var r = support == 0 ? 0 : (double)truePositives / support;
        var f = p + r == 0 ? 0 : 2 * p * r / (p + r);
        return (p, r, f);
    }

    /// <summary>The sorted (ordinal) union of labels seen in gold and predictions.</summary>
    public static IReadOnlyList<string> LabelSet(IEnumerable<string> gold, IEnumerable<string> predicted) =>
        gold.Concat(predicted).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

    internal static void CheckSameLength<T, U>(IReadOnlyList<T> gold, IReadOnlyList<U> predicted)
    {
        if (gold.Count != predicted.Count)
            throw new ArgumentException($"{gold.Count} gold labels but {predicted.Count} predictions: they must pair up one to one");
    }
}
