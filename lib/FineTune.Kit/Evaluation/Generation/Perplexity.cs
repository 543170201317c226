namespace FineTune.Kit.Evaluation.Generation;

/// <summary>Perplexity = exp(mean negative log-likelihood per token), with natural-log likelihoods.</summary>
public static class Perplexity
{
    /// <summary>Perplexity of one stream of per-token negative log-likelihoods (nats).</summary>
    public static double FromTokenNll(IEnumerable<double> tokenNll)
    {
        double sum = 0;
        var n = 0;
        foreach (var x in tokenNll)
        {
            if (double.IsNaN(x) || x < 0) throw new ArgumentException($"token {n}: negative log-likelihood must be ≥ 0, got {x}");
            sum += x;
            n++;
        }
        if (n == 0) throw new ArgumentException("perplexity needs at least one token");
        return Math.Exp(sum / n);
    }

    /// <summary>
    /// Corpus perplexity of several sequences: tokens are pooled (every token weighs the same), which is not the mean
    /// of per-sequence perplexities.
    /// </summary>
    public static double FromSequences(IEnumerable<IReadOnlyList<double>> sequences) => FromTokenNll(sequences.SelectMany(s => s));
}
