namespace FineTune.Kit.Explain;

/// <summary>Weighted ridge regression on binary features with an unpenalised intercept.</summary>
internal static class WeightedRidge
{
    /// <summary>The fitted surrogate: coefficients, intercept and weighted R².</summary>
    public sealed record RidgeFit(double[] Coefficients, double Intercept, double WeightedR2);

    public static RidgeFit Fit(IReadOnlyList<bool[]> x, double[] y, double[] w, double alpha)
    {
        int n = y.Length, m = x.Count > 0 ? x[0].Length : 0;
        double sw = w.Sum();
        if (!(sw > 0)) throw new KitException("All LIME kernel weights are zero; widen the kernel.");
        // centre by the weighted means so the intercept drops out of the penalised system
        var meanX = new double[m];
        double meanY = 0;
        for (int r = 0; r < n; r++)
        {
            meanY += w[r] * y[r];
            for (int j = 0; j < m; j++) if (x[r][j]) meanX[j] += w[r];
        }
        meanY /= sw;
        for (int j = 0; j < m; j++) meanX[j] /= sw;
        var a = new double[m, m];
        var b = new double[m];
        var xc = new double[m];
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < m; j++) xc[j] = (x[r][j] ? 1 : 0) - meanX[j];
            double yc = y[r] - meanY;
            for (int i = 0; i < m; i++)
            {
                double wi = w[r] * xc[i];
                b[i] += wi * yc;
                for (int j = 0; j <= i; j++) a[i, j] += wi * xc[j];
            }
        }
        for (int i = 0; i < m; i++)
        {
            a[i, i] += alpha;
            for (int j = 0; j < i; j++) a[j, i] = a[i, j];
        }
        var beta = LinearSystems.SolveSymmetric(a, b, out _);
        double intercept = meanY;
        for (int j = 0; j < m; j++) intercept -= beta[j] * meanX[j];
        double ssRes = 0, ssTot = 0;
        for (int r = 0; r < n; r++)
        {
            double pred = intercept;
            for (int j = 0; j < m; j++) if (x[r][j]) pred += beta[j];
            ssRes += w[r] * (y[r] - pred) * (y[r] - pred);
            ssTot += w[r] * (y[r] - meanY) * (y[r] - meanY);
        }
        double r2 = ssTot > 0 ? 1 - ssRes / ssTot : (ssRes == 0 ? 1 : 0);
        return new RidgeFit(beta, intercept, r2);
    }
}
