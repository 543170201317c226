namespace FineTune.Kit.Explain;

/// <summary>Small dense solvers for the regressions inside the explainers.</summary>
internal static class LinearSystems
{
    /// <summary>
    /// Solves A x = b for symmetric positive semi-definite A by Cholesky. When A is singular (too few distinct
    /// samples to pin down every coefficient) a tiny ridge, relative to A's diagonal, is added so that the minimum-norm
    /// direction is chosen; <paramref name="ridgeUsed"/> reports it.
    /// </summary>
    public static double[] SolveSymmetric(double[,] a, double[] b, out double ridgeUsed)
    {
        int n = b.Length;
        ridgeUsed = 0;
        if (n == 0) return [];
        double scale = 0;
        for (int i = 0; i < n; i++) scale = Math.Max(scale, Math.Abs(a[i, i]));
        if (scale == 0) scale = 1;
        foreach (var ridge in new[] { 0.0, 1e-12, 1e-9, 1e-6, 1e-3 })
        {
            var x = TryCholesky(a, b, ridge * scale, scale);
            if (x is not null) { ridgeUsed = ridge * scale; return x; }
        }
        throw new KitException("The regression system is numerically singular; use more samples.");
    }

    private static double[]? TryCholesky(double[,] a, double[] b, double ridge, double scale)
    {
        int n = b.Length;
        var l = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double s = a[i, j] + (i == j ? ridge : 0);
                for (int k = 0; k < j; k++) s -= l[i, k] * l[j, k];
                if (i == j)
                {
                    // pivot test relative to the largest diagonal entry: a pivot lost to rounding means a singular matrix
                    if (s <= 1e-13 * scale) return null;
                    l[i, i] = Math.Sqrt(s);
                }
                else l[i, j] = s / l[j, j];
            }
        }
        var y = new double[n];
        for (int i = 0; i < n; i++)
        {
            double s = b[i];
            for (int k = 0; k < i; k++) s -= l[i, k] * y[k];
            y[i] = s / l[i, i];
        }
        var x = new double[n];
        for (int i = n - 1; i >= 0; i--)
        {
            double s = y[i];
            for (int k = i + 1; k < n; k++) s -= l[k, i] * x[k];
            x[i] = s / l[i, i];
        }
        return x;
    }

    /// <summary>Binomial coefficient as a double (exact for the sizes used here).</summary>
    public static double Choose(int n, int k)
    {
        if (k < 0 || k > n) return 0;
        k = Math.Min(k, n - k);
        double r = 1;
        for (int i = 1; i <= k; i++) r = r * (n - k + i) / i;
        return Math.Round(r);
    }

    /// <summary>Shapley weight of a coalition of size s among n players, for a player outside it: s!(n−s−1)!/n!.</summary>
    public static double ShapleyWeight(int n, int s) => 1.0 / (n * Choose(n - 1, s));
}
