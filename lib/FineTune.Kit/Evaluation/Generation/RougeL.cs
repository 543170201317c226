using FineTune.Kit.Text;
namespace FineTune.Kit.Evaluation.Generation;

/// <summary>Precision, recall and F-measure of a ROUGE score.</summary>
public readonly record struct RougeScore(double Precision, double Recall, double F);

/// <summary>
/// ROUGE-L (Lin 2004): longest common subsequence of candidate and reference tokens. P = LCS/|candidate|,
/// R = LCS/|reference|, F = (1+β²)PR / (R + β²P). β = 1 gives the harmonic mean used by most toolkits.
/// </summary>
public static class RougeL
{
    /// <summary>ROUGE-L of one candidate against one reference, tokenised with <see cref="TextNormalizer.Words"/>.</summary>
    public static RougeScore Score(string candidate, string reference, double beta = 1) =>
        Score(TextNormalizer.Words(candidate), TextNormalizer.Words(reference), beta);

    /// <summary>ROUGE-L on pre-tokenised text.</summary>
    public static RougeScore Score(IReadOnlyList<string> candidate, IReadOnlyList<string> reference, double beta = 1)
    {
        if (candidate.Count == 0 || reference.Count == 0) return new RougeScore(0, 0, 0);
        var lcs = LongestCommonSubsequence(candidate, reference);
        if (lcs == 0) return new RougeScore(0, 0, 0);
        var p = (double)lcs / candidate.Count;
        var r = (double)lcs / reference.Count;
        var b2 = beta * beta;
        return new RougeScore(p, r, (1 + b2) * p * r / (r + b2 * p));
    }

    /// <summary>Mean ROUGE-L F over pairs, taking the best reference for each candidate.</summary>
    public static double MeanF(IReadOnlyList<string> candidates, IReadOnlyList<IReadOnlyList<string>> references, double beta = 1)
    {
        ClassificationMetrics.CheckSameLength(candidates, references);
        return candidates.Select((c, i) => references[i].Max(r => Score(c, r, beta).F)).Average();
    }

    /// <summary>Length of the longest common subsequence (dynamic programming, two rows of memory).</summary>
    public static int LongestCommonSubsequence(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        var prev = new int[b.Count + 1];
        var cur = new int[b.Count + 1];
        for (var i = 1; i <= a.Count; i++)
        {
            for (var j = 1; j <= b.Count; j++)
                cur[j] = string.Equals(a[i - 1], b[j - 1], StringComparison.Ordinal) ? prev[j - 1] + 1 : Math.Max(prev[j], cur[j - 1]);
            (prev, cur) = (cur, prev);
        }
        return prev[b.Count];
    }
}
