namespace FineTune.Kit.Explain;

/// <summary>Where attention rows stray furthest from summing to one.</summary>
public sealed record RowSumCheck(double MaxDeviation, int Layer, int Head, int Row, double Sum, double Tolerance)
{
    /// <summary>True when every row sums to one within the tolerance.</summary>
    public bool Ok => MaxDeviation <= Tolerance;
}

/// <summary>Summary numbers of one attention head, for the layer × head grid.</summary>
/// <param name="Layer">Layer index.</param>
/// <param name="Head">Head index within the layer.</param>
/// <param name="Entropy">Mean row entropy in nats (low = focused heads).</param>
/// <param name="MaxWeight">Mean of each row's largest weight.</param>
/// <param name="FirstToken">Mean weight on token 0 (the "attention sink").</param>
/// <param name="PreviousToken">Mean weight on the previous token.</param>
/// <param name="Self">Mean weight on the token itself.</param>
public sealed record HeadSummary(int Layer, int Head, double Entropy, double MaxWeight, double FirstToken,
    double PreviousToken, double Self);

/// <summary>
/// Utilities on attention weights laid out as [layers][heads][T][T] (row = query position, column = key position):
/// shape and row-sum checks, head averages, attention rollout and per-head summaries.
/// </summary>
public static class AttentionMaps
{
    /// <summary>Checks the array is [L][H][T][T] with the same H and T everywhere; returns (L, H, T).</summary>
    public static (int Layers, int Heads, int Tokens) Shape(float[][][][] attention)
    {
        if (attention.Length == 0) throw new ArgumentException("The attention array has no layers.");
        int h = attention[0].Length, t = h > 0 ? attention[0][0].Length : 0;
        if (h == 0 || t == 0) throw new ArgumentException("The attention array has no heads or no tokens.");
        for (int l = 0; l < attention.Length; l++)
        {
            if (attention[l].Length != h) throw new ArgumentException($"Layer {l} has {attention[l].Length} heads, expected {h}.");
            for (int k = 0; k < h; k++)
            {
                if (attention[l][k].Length != t)
                    throw new ArgumentException($"Layer {l} head {k} has {attention[l][k].Length} rows, expected {t}.");
                for (int i = 0; i < t; i++)
                    if (attention[l][k][i].Length != t)
                        throw new ArgumentException($"Layer {l} head {k} row {i} has {attention[l][k][i].Length} columns, expected {t}.");
            }
        }
        return (attention.Length, h, t);
    }

    /// <summary>Finds the row whose sum is furthest from one (and any negative or non-finite weight).</summary>
    public static RowSumCheck CheckRowSums(float[][][][] attention, double tolerance = 1e-3)
    {
        var (layers, heads, tokens) = Shape(attention);
        var worst = new RowSumCheck(0, 0, 0, 0, 1, tolerance);
        for (int l = 0; l < layers; l++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < tokens; i++)
                {
                    double sum = 0;
                    bool bad = false;
                    foreach (var a in attention[l][h][i])
                    {
                        if (!float.IsFinite(a) || a < 0) bad = true;
                        sum += a;
                    }
                    double dev = bad ? double.PositiveInfinity : Math.Abs(sum - 1);
                    if (dev > worst.MaxDeviation) worst = new RowSumCheck(dev, l, h, i, sum, tolerance);
                }
        return worst;
    }

    /// <summary>Throws when a row does not sum to one, naming layer, head and row.</summary>
    public static void EnsureRowsSumToOne(float[][][][] attention, double tolerance = 1e-3)
    {
        var r = CheckRowSums(attention, tolerance);
        if (!r.Ok)
            throw new ArgumentException(
                $"Attention row {r.Row} of layer {r.Layer} head {r.Head} sums to {r.Sum:G6} (tolerance {tolerance}); " +
                "expected post-softmax weights, each row summing to 1 with no negative entries.");
    }

    /// <summary>The mean over heads of one layer, [T][T].</summary>
    public static double[][] HeadAverage(float[][][][] attention, int layer)
    {
        var (layers, heads, tokens) = Shape(attention);
        if (layer < 0 || layer >= layers) throw new ArgumentOutOfRangeException(nameof(layer), $"Layer {layer} is out of range 0..{layers - 1}.");
        var avg = NewMatrix(tokens);
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < tokens; i++)
                for (int j = 0; j < tokens; j++) avg[i][j] += attention[layer][h][i][j] / (double)heads;
        return avg;
    }

    /// <summary>
    /// Attention rollout (Abnar &amp; Zuidema 2020): per layer average the heads, add the identity for the residual
    /// connection (when <paramref name="addResidual"/>), renormalise rows to sum to one, and multiply the layers:
    /// R = Â_L · … · Â_1. Row i tells how much each input token flows into position i at the top.
    /// </summary>
    public static double[][] Rollout(float[][][][] attention, bool addResidual = true)
    {
        var (layers, _, tokens) = Shape(attention);
        double[][]? rollout = null;
        for (int l = 0; l < layers; l++)
        {
            var a = HeadAverage(attention, l);
            for (int i = 0; i < tokens; i++)
            {
                if (addResidual) a[i][i] += 1;
                double sum = a[i].Sum();
                if (sum > 0) for (int j = 0; j < tokens; j++) a[i][j] /= sum;
            }
            rollout = rollout is null ? a : Multiply(a, rollout);
        }
        return rollout!;
    }

    /// <summary>Summary numbers of every head, [layer][head], for the layer × head grid.</summary>
    public static HeadSummary[][] HeadSummaries(float[][][][] attention)
    {
        var (layers, heads, tokens) = Shape(attention);
        var grid = new HeadSummary[layers][];
        for (int l = 0; l < layers; l++)
        {
            grid[l] = new HeadSummary[heads];
            for (int h = 0; h < heads; h++)
            {
                double entropy = 0, max = 0, first = 0, prev = 0, self = 0;
                for (int i = 0; i < tokens; i++)
                {
                    var row = attention[l][h][i];
                    foreach (var a in row) if (a > 0) entropy -= a * Math.Log(a);
                    max += row.Max();
                    first += row[0];
                    self += row[i];
                    if (i > 0) prev += row[i - 1];
                }
                grid[l][h] = new HeadSummary(l, h, entropy / tokens, max / tokens, first / tokens,
                    tokens > 1 ? prev / (tokens - 1) : 0, self / tokens);
            }
        }
        return grid;
    }

    private static double[][] NewMatrix(int n) => Enumerable.Range(0, n).Select(_ => new double[n]).ToArray();

    private static double[][] Multiply(double[][] a, double[][] b)
    {
        int n = a.Length;
        var c = NewMatrix(n);
        for (int i = 0; i < n; i++)
            for (int k = 0; k < n; k++)
            {
                double aik = a[i][k];
                if (aik == 0) continue;
                for (int j = 0; j < n; j++) c[i][j] += aik * b[k][j];
            }
        return c;
    }
}
