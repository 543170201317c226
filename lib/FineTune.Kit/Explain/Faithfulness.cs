namespace FineTune.Kit.Explain;

/// <summary>
/// How well an attribution's ranking predicts the model: remove (or keep only) the top-ranked features and watch f.
/// <list type="bullet">
/// <item><see cref="DeletionCurve"/>: f after removing the k highest-ranked features, k = 0..M (falls fast for a
/// faithful ranking).</item>
/// <item>Comprehensiveness at k: f(x) − f(x without the top k) — large when the top features matter.</item>
/// <item>Sufficiency at k: f(x) − f(only the top k) — small when the top features suffice.</item>
/// <item>AOPC: the mean of f(x) − f(x without the top k) over k = 1..K (area over the perturbation curve).</item>
/// </list>
/// Features are ranked by signed value, highest first (the ones pushing f up); ties keep input order.
/// </summary>
public static class Faithfulness
{
    /// <summary>f after removing the top k features, for k = 0..M (index k); M + 1 evaluations at most.</summary>
    public static double[] DeletionCurve(Attribution attribution, CoalitionValue value, int batchSize = 64)
    {
        var order = Ranking(attribution);
        var masks = new List<bool[]>();
        var mask = Full(order.Length);
        masks.Add((bool[])mask.Clone());
        foreach (var j in order)
        {
            mask[j] = false;
            masks.Add((bool[])mask.Clone());
        }
        return new CoalitionEvaluator(value, order.Length, batchSize).Evaluate(masks);
    }

    /// <summary>f(x) − f(x without the top k features).</summary>
    public static double Comprehensiveness(Attribution attribution, CoalitionValue value, int k)
    {
        var order = Ranking(attribution);
        var without = Full(order.Length);
        foreach (var j in order.Take(k)) without[j] = false;
        var v = new CoalitionEvaluator(value, order.Length, 2).Evaluate([Full(order.Length), without]);
        return v[0] - v[1];
    }

    /// <summary>f(x) − f(only the top k features present).</summary>
    public static double Sufficiency(Attribution attribution, CoalitionValue value, int k)
    {
        var order = Ranking(attribution);
        var only = new bool[order.Length];
        foreach (var j in order.Take(k)) only[j] = true;
        var v = new CoalitionEvaluator(value, order.Length, 2).Evaluate([Full(order.Length), only]);
        return v[0] - v[1];
    }

    /// <summary>Mean drop f(x) − f(x without the top k) over k = 1..<paramref name="maxK"/> (all features when null).</summary>
    public static double Aopc(Attribution attribution, CoalitionValue value, int? maxK = null)
    {
        var curve = DeletionCurve(attribution, value);
        int k = Math.Min(maxK ?? curve.Length - 1, curve.Length - 1);
        if (k < 1) return 0;
        return Enumerable.Range(1, k).Average(i => curve[0] - curve[i]);
    }

    /// <summary>Spearman rank correlation of two attributions of the same features (agreement between methods).</summary>
    public static double RankCorrelation(Attribution a, Attribution b)
    {
        if (a.Values.Length != b.Values.Length)
            throw new ArgumentException($"Cannot compare attributions of {a.Values.Length} and {b.Values.Length} features.");
        var ra = Ranks(a.Values);
        var rb = Ranks(b.Values);
        double ma = ra.Average(), mb = rb.Average(), cov = 0, va = 0, vb = 0;
        for (int i = 0; i < ra.Length; i++)
        {
            cov += (ra[i] - ma) * (rb[i] - mb);
            va += (ra[i] - ma) * (ra[i] - ma);
            vb += (rb[i] - mb) * (rb[i] - mb);
        }
        return va > 0 && vb > 0 ? cov / Math.Sqrt(va * vb) : 0;
    }

    /// <summary>Feature indices from highest to lowest attribution.</summary>
    public static int[] Ranking(Attribution attribution) =>
        Enumerable.Range(0, attribution.Values.Length).OrderByDescending(i => attribution.Values[i]).ThenBy(i => i).ToArray();

    private static bool[] Full(int m)
    {
        var mask = new bool[m];
        Array.Fill(mask, true);
        return mask;
    }

    /// <summary>Average ranks (ties share the mean rank).</summary>
    private static double[] Ranks(double[] values)
    {
        var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Length];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            for (int k = start; k <= end; k++) ranks[order[k]] = (start + end) / 2.0;
            start = end + 1;
        }
        return ranks;
    }
}
