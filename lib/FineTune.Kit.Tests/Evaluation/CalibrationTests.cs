using FineTune.Kit.Evaluation;

namespace FineTune.Kit.Tests.Evaluation;

public class CalibrationTests
{
    [Fact]
    public void Ece_matches_hand_computation_with_right_closed_bins()
    {
        double[] conf = [0.95, 0.9, 0.85, 0.6, 0.55, 0.3];
        bool[] correct = [true, true, false, true, false, false];
        var r = Calibration.Compute(conf, correct, bins: 5);
        // (0.8,1]: 3 items, acc 2/3, conf 0.9 ; (0.4,0.6]: 0.6 and 0.55, acc 1/2, conf 0.575 ; (0.2,0.4]: acc 0, conf 0.3
        var expected = 3.0 / 6 * Math.Abs(2.0 / 3 - 0.9) + 2.0 / 6 * Math.Abs(0.5 - 0.575) + 1.0 / 6 * 0.3;
        Assert.Equal(expected, r.ExpectedCalibrationError, 12);
        Assert.Equal(0.3, r.MaxCalibrationError, 12);
        Assert.Equal(2, r.Bins[2].Count); // 0.6 belongs to (0.4, 0.6], not to (0.6, 0.8]
        Assert.Equal(0, r.Bins[3].Count);
        Assert.Equal(3, r.Bins[4].Count);
        Assert.Equal(0.575, r.Bins[2].MeanConfidence, 12);
    }

    [Fact]
    public void Perfectly_calibrated_bins_give_zero_ece()
    {
        // 10 predictions at confidence 0.8 of which 8 are right
        var conf = Enumerable.Repeat(0.8, 10).ToArray();
        var correct = Enumerable.Range(0, 10).Select(i => i < 8).ToArray();
        Assert.Equal(0, Calibration.Compute(conf, correct).ExpectedCalibrationError, 12);
    }

    [Fact]
    public void Confidence_outside_zero_one_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => Calibration.Compute([0.5, 1.2], [true, false]));
        Assert.Contains("example 1", e.Message);
    }

    [Fact]
    public void Reliability_chart_renders()
    {
        var r = Calibration.Compute([0.9, 0.7, 0.3], [true, false, true], bins: 10);
        var html = FineTune.Kit.Plots.HtmlPage.ChartFragment(EvaluationCharts.ReliabilityDiagram("model", r));
        Assert.Contains("perfect calibration", html);
        Assert.Contains("ECE", html);
    }
}
