using FineTune.Kit.Evaluation;
using FineTune.Kit.Data;
using FineTune.Kit.Prompting;

namespace FineTune.Kit.Tests.Evaluation;

public class ClassificationReportTests
{
    private sealed class FirstLetter : ITextClassifier
    {
        // predicts "spam" for texts starting with 's' with confidence 0.9, else "ham" with 0.6
        public ClassifierOutput Classify(string input) => input.StartsWith('s')
            ? new("spam", new Dictionary<string, double> { ["spam"] = 0.9, ["ham"] = 0.1 }, PromptTokens: input.Length)
            : new("ham", new Dictionary<string, double> { ["spam"] = 0.4, ["ham"] = 0.6 }, PromptTokens: input.Length);
    }

    [Fact]
    public void Live_evaluation_fills_every_section()
    {
        LabeledExample[] test =
        [
            new("sale now", "spam"), new("see you", "ham"), new("lunch?", "ham"), new("win cash", "spam"), new("hi", "ham"),
        ];
        var report = ClassificationReport.Evaluate(new FirstLetter(), test, bootstrap: new Bootstrap(Resamples: 200, Seed: 1));
        // right: sale now, lunch?, hi ; wrong: see you (spam), win cash (ham)
        Assert.Equal(0.6, report.Accuracy.Estimate, 12);
        Assert.Equal([true, false, true, false, true], report.Correct);
        Assert.Equal(5, report.LatencyMs.Count); // timed by the evaluator
        Assert.Equal(test.Average(e => e.Text.Length), report.PromptTokens.Mean, 12);
        // calibration: 0.9-confidence bin has 1 of 2 right, 0.6-confidence bin 2 of 3 right
        var ece = 2.0 / 5 * Math.Abs(0.5 - 0.9) + 3.0 / 5 * Math.Abs(2.0 / 3 - 0.6);
        Assert.Equal(ece, report.Calibration!.ExpectedCalibrationError, 12);
        var text = report.ToString();
        Assert.Contains("accuracy 0.600", text);
        Assert.Contains("spam", text);
        Assert.Contains("ECE", text);
    }
}
