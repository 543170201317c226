using FineTune.Kit.Prompting;

namespace FineTune.Kit.Monitoring;

/// <summary>A two-sample test result: the statistic and its p-value.</summary>
public readonly record struct TestResult(double Statistic, double PValue);

/// <summary>
/// The two-sample statistics drift monitoring uses: the population stability index, the Kolmogorov–Smirnov test, and
/// the maximum mean discrepancy with a permutation p-value.
/// </summary>
public static class DriftStatistics
{
    /// <summary>Shares below this are raised to it, so an empty bin gives a large but finite PSI term.</summary>
    public const double Floor = 1e-4;

    /// <summary>
    /// PSI = Σ (aᵢ − eᵢ) · ln(aᵢ / eᵢ) over bins with expected shares e and actual shares a (each floored at
    /// <see cref="Floor"/>). Rule of thumb: below 0.1 stable, 0.1–0.25 a moderate shift, above 0.25 a major one.
    /// </summary>
    public static double PsiFromShares(IReadOnlyList<double> expected, IReadOnlyList<double> actual)
    {
        if (expected.Count != actual.Count) throw new ArgumentException($"PSI needs the same bins on both sides, got {expected.Count} and {actual.Count}");
        double psi = 0;
        for (var i = 0; i < expected.Count; i++)
        {
            double e = Math.Max(expected[i], Floor), a = Math.Max(actual[i], Floor);
            psi += (a - e) * Math.Log(a / e);
        }
        return psi;
    }

    /// <summary>PSI of a numeric sample against a reference, with bins at the reference's deciles (ties merged).</summary>
    public static double Psi(IReadOnlyList<double> reference, IReadOnlyList<double> sample, int bins = 10)
    {
        if (reference.Count == 0 || sample.Count == 0) throw new ArgumentException("PSI needs values on both sides");
        var sorted = reference.Order().ToArray();
        var edges = Enumerable.Range(1, bins - 1).Select(i => sorted[(int)Math.Floor((double)i * (sorted.Length - 1) / bins)])
            .Distinct().ToArray();
        return PsiFromShares(Shares(reference, edges), Shares(sample, edges));
    }

    /// <summary>PSI of two categorical samples over the union of their categories.</summary>
    public static double Psi(IReadOnlyList<string> reference, IReadOnlyList<string> sample)
    {
        var categories = reference.Concat(sample).Distinct().Order(StringComparer.Ordinal).ToList();
        double[] Shares(IReadOnlyList<string> values) =>
            categories.Select(c => values.Count == 0 ? 0 : (double)values.Count(v => v == c) / values.Count).ToArray();
        return PsiFromShares(Shares(reference), Shares(sample));
    }

    /// <summary>The share of values in each bin: (−∞, e₀], (e₀, e₁], …, (eₖ, ∞).</summary>
    public static double[] Shares(IReadOnlyList<double> values, IReadOnlyList<double> edges)
    {
        var counts = new double[edges.Count + 1];
        foreach (var v in values)
        {
            var bin = 0;
            while (bin < edges.Count && v > edges[bin]) bin++;
            counts[bin]++;
        }
        return counts.Select(c => c / values.Count).ToArray();
    }

    /// <summary>
    /// Two-sample Kolmogorov–Smirnov test: D is the largest gap between the two empirical CDFs; the p-value uses the
    /// asymptotic Kolmogorov distribution with Stephens' small-sample correction λ = (√nₑ + 0.12 + 0.11/√nₑ)·D.
    /// </summary>
    public static TestResult KolmogorovSmirnov(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count == 0 || b.Count == 0) throw new ArgumentException("the KS test needs values on both sides");
        var x = a.Order().ToArray();
        var y = b.Order().ToArray();
        int i = 0, j = 0;
        double d = 0;
        while (i < x.Length && j < y.Length)
        {
            var v = Math.Min(x[i], y[j]);
            while (i < x.Length && x[i] == v) i++;      // step past ties on both sides before comparing the CDFs
            while (j < y.Length && y[j] == v) j++;
            d = Math.Max(d, Math.Abs((double)i / x.Length - (double)j / y.Length));
        }
        var ne = (double)x.Length * y.Length / (x.Length + y.Length);
        var lambda = (Math.Sqrt(ne) + 0.12 + 0.11 / Math.Sqrt(ne)) * d;
        return new TestResult(d, KolmogorovQ(lambda));
    }

    /// <summary>Q(λ) = 2 Σ (−1)^(k−1) e^(−2k²λ²), the Kolmogorov survival function.</summary>
    public static double KolmogorovQ(double lambda)
    {
        if (lambda < 0.2) return 1;
        double sum = 0;
        for (var k = 1; k <= 100; k++)
        {
            var term = Math.Exp(-2.0 * k * k * lambda * lambda);
            sum += (k % 2 == 1 ? 1 : -1) * term;
            if (term < 1e-12) break;
        }
        return Math.Clamp(2 * sum, 0, 1);
    }

    /// <summary>
    /// Maximum mean discrepancy between two sets of texts as TF-IDF vectors (fitted on <paramref name="a"/>), with a
    /// Gaussian kernel whose width is the median squared distance, and a permutation p-value: the share of random
    /// relabellings of the pooled texts whose MMD² is at least the observed one.
    /// </summary>
    public static TestResult Mmd(IReadOnlyList<string> a, IReadOnlyList<string> b, int permutations = 200, int seed = Seeds.Default)
    {
        if (a.Count < 2 || b.Count < 2) throw new ArgumentException("the MMD test needs at least two texts on each side");
        var vectorizer = TfIdfVectorizer.Fit(a);
        var pooled = a.Concat(b).Select(vectorizer.Transform).ToArray();
        int n = pooled.Length;
        var squared = new double[n, n];
        var norms = pooled.Select(v => v.Dot(v)).ToArray();
        var distances = new List<double>();
        for (var i = 0; i < n; i++)
            for (var j = i + 1; j < n; j++)
            {
                var d2 = Math.Max(0, norms[i] + norms[j] - 2 * pooled[i].Dot(pooled[j]));
                squared[i, j] = squared[j, i] = d2;
                distances.Add(d2);
            }
        return MmdTest(squared, distances, a.Count, permutations, seed);
    }

    /// <summary>
    /// Maximum mean discrepancy between two sets of vectors (e.g. a model's mean-pooled hidden states), with the same
    /// Gaussian kernel (width: the median squared distance) and permutation p-value as the text version.
    /// </summary>
    public static TestResult Mmd(IReadOnlyList<float[]> a, IReadOnlyList<float[]> b, int permutations = 200, int seed = Seeds.Default)
    {
        if (a.Count < 2 || b.Count < 2) throw new ArgumentException("the MMD test needs at least two vectors on each side");
        var pooled = a.Concat(b).ToArray();
        int n = pooled.Length;
        if (pooled.Any(v => v.Length != pooled[0].Length)) throw new ArgumentException("the MMD test needs vectors of one length");
        var squared = new double[n, n];
        var distances = new List<double>();
        for (var i = 0; i < n; i++)
            for (var j = i + 1; j < n; j++)
            {
                double d2 = 0;
                for (var k = 0; k < pooled[i].Length; k++)
                {
                    double d = pooled[i][k] - pooled[j][k];
                    d2 += d * d;
                }
                squared[i, j] = squared[j, i] = d2;
                distances.Add(d2);
            }
        return MmdTest(squared, distances, a.Count, permutations, seed);
    }

    /// <summary>MMD² under a Gaussian kernel of the median squared distance, and its permutation p-value.</summary>
    private static TestResult MmdTest(double[,] squared, List<double> distances, int firstCount, int permutations, int seed)
    {
        int n = squared.GetLength(0);
        distances.Sort();
        var width = distances[distances.Count / 2] is > 0 and var m ? m : 1.0;
        var kernel = new double[n, n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++) kernel[i, j] = Math.Exp(-squared[i, j] / width);

        var order = Enumerable.Range(0, n).ToArray();
        var observed = MmdSquared(kernel, order, firstCount);
        var random = new Random(seed);
        var atLeast = 0;
        for (var p = 0; p < permutations; p++)
        {
            random.Shuffle(order);
            if (MmdSquared(kernel, order, firstCount) >= observed) atLeast++;
        }
        return new TestResult(observed, (1.0 + atLeast) / (1.0 + permutations));
    }

    /// <summary>The biased MMD² estimate: mean k within the first group + within the second − 2 × across.</summary>
    private static double MmdSquared(double[,] kernel, int[] order, int firstCount)
    {
        int n = order.Length, m = n - firstCount;
        double xx = 0, yy = 0, xy = 0;
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
            {
                var k = kernel[order[i], order[j]];
                bool iFirst = i < firstCount, jFirst = j < firstCount;
                if (iFirst && jFirst) xx += k;
                else if (!iFirst && !jFirst) yy += k;
                else xy += k;
            }
        return xx / ((double)firstCount * firstCount) + yy / ((double)m * m) - xy / ((double)firstCount * m);
    }

    /// <summary>The q-th quantile (0–1) by linear interpolation between order statistics.</summary>
    public static double Quantile(IReadOnlyList<double> values, double q)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        var at = q * (sorted.Length - 1);
        var lo = (int)Math.Floor(at);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (at - lo) * (sorted[hi] - sorted[lo]);
    }
}
