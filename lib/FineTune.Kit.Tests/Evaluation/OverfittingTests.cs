using FineTune.Kit.Evaluation;

namespace FineTune.Kit.Tests.Evaluation;

public class OverfittingTests
{
    [Fact]
    public void Rising_validation_loss_with_falling_train_loss_is_flagged_at_the_best_step()
    {
        TrainingRecord[] history =
        [
            new(100, 2.0, 2.1), new(200, 1.5, 1.7), new(300, 1.1, 1.5), new(400, 0.7, 1.6), new(500, 0.4, 1.9),
        ];
        var d = Overfitting.Diagnose(history);
        Assert.True(d.IsOverfitting);
        Assert.Equal(300, d.BestValidationStep);
        Assert.Equal(1.5, d.BestValidationLoss);
        Assert.Equal(1.9 - 0.4, d.Gap, 12);
        Assert.Equal(0.4, d.ValidationRise, 12);
        Assert.Contains("step 300", d.Summary);
        Assert.Contains("Over-fitting", d.Summary);
    }

    [Fact]
    public void Steadily_improving_run_is_not_flagged()
    {
        TrainingRecord[] history = [new(1, 2.0, 2.05), new(2, 1.8, 1.85), new(3, 1.6, 1.66), new(4, 1.5, 1.57)];
        var d = Overfitting.Diagnose(history);
        Assert.False(d.IsOverfitting);
        Assert.Equal(4, d.BestValidationStep);
        Assert.Contains("still improving", d.Summary);
    }

    [Fact]
    public void Steps_without_validation_are_skipped_and_a_wide_gap_is_flagged()
    {
        TrainingRecord[] history = [new(1, 1.0, null), new(2, 0.5, 1.4), new(3, 0.3, null), new(4, 0.2, 1.3)];
        var d = Overfitting.Diagnose(history);
        Assert.Equal(4, d.BestValidationStep);
        Assert.True(d.IsOverfitting); // 1.3 vs 0.2 train: a gap of 550%
        Assert.Contains("gap", d.Summary);
    }

    [Fact]
    public void History_without_validation_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => Overfitting.Diagnose([new TrainingRecord(1, 1.0, null)]));
    }

    [Fact]
    public void Loss_curve_chart_renders()
    {
        TrainingRecord[] history = [new(1, 2.0, 2.1), new(2, 1.0, 1.5), new(3, 0.5, 1.8)];
        var html = FineTune.Kit.Plots.HtmlPage.ChartFragment(EvaluationCharts.LossCurves(history, Overfitting.Diagnose(history)));
        Assert.Contains("validation loss", html);
        Assert.Contains("over-fitting", html);
    }
}
