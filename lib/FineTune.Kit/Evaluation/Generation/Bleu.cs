using FineTune.Kit.Text;
namespace FineTune.Kit.Evaluation.Generation;

/// <summary>How BLEU treats an n-gram order with no match (which would make the geometric mean 0).</summary>
public enum BleuSmoothing
{
    /// <summary>No smoothing: any zero precision gives BLEU 0 (the corpus-level standard).</summary>
    None,
    /// <summary>Add one to matches and totals for orders n ≥ 2 (Lin and Och 2004), common for sentence BLEU.</summary>
    AddOne,
    /// <summary>Replace a zero match count by ε = 0.1 (Chen and Cherry 2014, method 1).</summary>
    Epsilon,
}

/// <summary>A BLEU score with the pieces it is made of.</summary>
/// <param name="Score">BLEU in [0, 1].</param>
/// <param name="Precisions">Modified n-gram precisions p_1..p_N (after smoothing).</param>
/// <param name="BrevityPenalty">exp(1 − r/c) when the candidate is shorter than the reference, else 1.</param>
/// <param name="CandidateLength">Total candidate tokens c.</param>
/// <param name="ReferenceLength">Total effective reference tokens r (closest reference length per sentence).</param>
public sealed record BleuScore(double Score, IReadOnlyList<double> Precisions, double BrevityPenalty, int CandidateLength, int ReferenceLength);

/// <summary>
/// BLEU (Papineni et al. 2002): geometric mean of clipped n-gram precisions (n = 1..4, uniform weights) times a brevity
/// penalty. Corpus BLEU sums clipped matches and totals over all sentences before dividing — it is not the mean of
/// sentence scores. Tokens are whitespace-separated unless you pass token lists.
/// </summary>
public static class Bleu
{
    /// <summary>Corpus BLEU of candidates, each with one or more references.</summary>
    public static BleuScore Corpus(IReadOnlyList<string> candidates, IReadOnlyList<IReadOnlyList<string>> references,
        int maxOrder = 4, BleuSmoothing smoothing = BleuSmoothing.None) =>
        Corpus(candidates.Select(TextNormalizer.Whitespace).ToArray(),
            references.Select(rs => (IReadOnlyList<IReadOnlyList<string>>)rs.Select(TextNormalizer.Whitespace).ToArray()).ToArray(),
            maxOrder, smoothing);

    /// <summary>Sentence BLEU of one candidate against its references (smoothing is advisable for short sentences).</summary>
    public static BleuScore Sentence(string candidate, IReadOnlyList<string> references, int maxOrder = 4,
        BleuSmoothing smoothing = BleuSmoothing.AddOne) =>
        Corpus([candidate], [references], maxOrder, smoothing);

    /// <summary>Corpus BLEU on pre-tokenised text.</summary>
    public static BleuScore Corpus(IReadOnlyList<IReadOnlyList<string>> candidates,
        IReadOnlyList<IReadOnlyList<IReadOnlyList<string>>> references, int maxOrder = 4, BleuSmoothing smoothing = BleuSmoothing.None)
    {
        ClassificationMetrics.CheckSameLength(candidates, references);
        if (maxOrder < 1) throw new ArgumentException($"BLEU order must be at least 1, got {maxOrder}");
        var matches = new double[maxOrder];
        var totals = new double[maxOrder];
        int c = 0, r = 0;
        for (var s = 0; s < candidates.Count; s++)
        {
            var cand = candidates[s];
            var refs = references[s];
            if (refs.Count == 0) throw new ArgumentException($"sentence {s} has no reference");
            c += cand.Count;
            // closest reference length; on a tie the shorter one (as in the original BLEU script)
            r += refs.Select(x => x.Count).OrderBy(len => Math.Abs(len - cand.Count)).ThenBy(len => len).First();
            for (var n = 1; n <= maxOrder; n++)
            {
                var candCounts = NGrams.Count(cand, n);
                var maxRef = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (var rc in refs.Select(x => NGrams.Count(x, n)))
                    foreach (var (gram, count) in rc)
                        maxRef[gram] = Math.Max(maxRef.GetValueOrDefault(gram), count);
                matches[n - 1] += NGrams.OverlapCount(candCounts, maxRef);
                totals[n - 1] += Math.Max(0, cand.Count - n + 1);
            }
        }

        var precisions = new double[maxOrder];
        var logSum = 0.0;
        for (var n = 0; n < maxOrder; n++)
        {
            double m = matches[n], t = totals[n];
            if (smoothing == BleuSmoothing.AddOne && n > 0) { m += 1; t += 1; }
            if (smoothing == BleuSmoothing.Epsilon && m == 0 && t > 0) m = 0.1;
            precisions[n] = t == 0 ? 0 : m / t;
            logSum += precisions[n] > 0 ? Math.Log(precisions[n]) : double.NegativeInfinity;
        }
        var bp = c == 0 ? 0 : c >= r ? 1 : Math.Exp(1 - (double)r / c);
        var score = double.IsNegativeInfinity(logSum) ? 0 : bp * Math.Exp(logSum / maxOrder);
        return new BleuScore(score, precisions, bp, c, r);
    }
}
