namespace FineTune.Kit.Evaluation;

/// <summary>One confidence bin of a reliability diagram: bin (Lower, Upper], how many predictions fell in it, their mean confidence and accuracy.</summary>
public sealed record ReliabilityBin(double Lower, double Upper, int Count, double MeanConfidence, double Accuracy)
{
    /// <summary>|accuracy - confidence| of the bin (0 for an empty bin).</summary>
    public double Gap => Count == 0 ? 0 : Math.Abs(Accuracy - MeanConfidence);
}

/// <summary>Calibration of predicted-label confidences: expected and maximum calibration error, and the bins behind them.</summary>
public sealed record CalibrationResult(double ExpectedCalibrationError, double MaxCalibrationError, IReadOnlyList<ReliabilityBin> Bins);

/// <summary>
/// Expected calibration error with equal-width bins (Guo et al. 2017): ECE = Σ_b |B_b|/n · |acc(B_b) − conf(B_b)|,
/// where bin b covers confidences in ((b−1)/B, b/B] and confidence 0 joins the first bin.
/// </summary>
public static class Calibration
{
    /// <summary>Computes ECE/MCE and the reliability bins from per-example confidence and correctness.</summary>
    public static CalibrationResult Compute(IReadOnlyList<double> confidence, IReadOnlyList<bool> correct, int bins = 10)
    {
        ClassificationMetrics.CheckSameLength(confidence, correct);
        if (bins < 1) throw new ArgumentException($"need at least one calibration bin, got {bins}");
        if (confidence.Count == 0) throw new ArgumentException("calibration of an empty set is undefined");
        var count = new int[bins];
        var confSum = new double[bins];
        var hits = new int[bins];
        for (var i = 0; i < confidence.Count; i++)
        {
            var c = confidence[i];
            if (double.IsNaN(c) || c < 0 || c > 1)
                throw new ArgumentException($"example {i}: confidence {c} is not a probability in [0, 1]");
            // the small tolerance keeps 0.3 * 10 = 3.0000000000000004 in the bin (0.2, 0.3] it belongs to
            var b = Math.Clamp((int)Math.Ceiling(c * bins - 1e-9) - 1, 0, bins - 1);
            count[b]++;
            confSum[b] += c;
            if (correct[i]) hits[b]++;
        }
        var result = new ReliabilityBin[bins];
        double ece = 0, mce = 0;
        for (var b = 0; b < bins; b++)
        {
            var acc = count[b] == 0 ? 0 : (double)hits[b] / count[b];
            var conf = count[b] == 0 ? 0 : confSum[b] / count[b];
            result[b] = new ReliabilityBin((double)b / bins, (double)(b + 1) / bins, count[b], conf, acc);
            ece += (double)count[b] / confidence.Count * result[b].Gap;
            mce = Math.Max(mce, result[b].Gap);
        }
        return new CalibrationResult(ece, mce, result);
    }
}
