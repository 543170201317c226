using FineTune.Kit.Text;
namespace FineTune.Kit.Evaluation.Generation;

/// <summary>SQuAD-style answer metrics: exact match and token-overlap F1 after normalisation, best over the gold answers.</summary>
public static class AnswerMetrics
{
    /// <summary>1 when the normalised prediction equals some normalised gold answer, else 0.</summary>
    public static double ExactMatch(string prediction, params IReadOnlyList<string> golds)
    {
        RequireGold(golds);
        var p = TextNormalizer.Squad(prediction);
        return golds.Any(g => string.Equals(p, TextNormalizer.Squad(g), StringComparison.Ordinal)) ? 1 : 0;
    }

    /// <summary>
    /// Token F1: precision and recall of the multiset of normalised tokens shared by prediction and gold, maximised over
    /// the gold answers. Two empty answers count as a match (1), one empty answer as 0.
    /// </summary>
    public static double TokenF1(string prediction, params IReadOnlyList<string> golds)
    {
        RequireGold(golds);
        var p = TextNormalizer.SquadTokens(prediction);
        return golds.Max(g => TokenF1(p, TextNormalizer.SquadTokens(g)));
    }

    /// <summary>Mean exact match over a data set (one prediction and its gold answers per item).</summary>
    public static double MeanExactMatch(IReadOnlyList<string> predictions, IReadOnlyList<IReadOnlyList<string>> golds)
    {
        ClassificationMetrics.CheckSameLength(predictions, golds);
        return predictions.Select((p, i) => ExactMatch(p, golds[i])).Average();
    }

    /// <summary>Mean token F1 over a data set.</summary>
    public static double MeanTokenF1(IReadOnlyList<string> predictions, IReadOnlyList<IReadOnlyList<string>> golds)
    {
        ClassificationMetrics.CheckSameLength(predictions, golds);
        return predictions.Select((p, i) => TokenF1(p, golds[i])).Average();
    }

    internal static double TokenF1(IReadOnlyList<string> prediction, IReadOnlyList<string> gold)
    {
        if (prediction.Count == 0 || gold.Count == 0) return prediction.Count == gold.Count ? 1 : 0;
        var common = NGrams.OverlapCount(NGrams.Count(prediction, 1), NGrams.Count(gold, 1));
        if (common == 0) return 0;
        var precision = (double)common / prediction.Count;
        var recall = (double)common / gold.Count;
        return 2 * precision * recall / (precision + recall);
    }

    private static void RequireGold(IReadOnlyList<string> golds)
    {
        if (golds.Count == 0) throw new ArgumentException("at least one gold answer is needed");
    }
}
