using FineTune.Kit.Lora;
using FineTune.Kit.Tests.Models;
using FineTune.Kit.Training;

namespace FineTune.Kit.Tests.Training;

public class SweepTests
{
    [Fact]
    public void A_grid_enumerates_every_combination_and_the_best_is_the_lowest_loss()
    {
        var sweep = Sweep.Grid([1e-3, 1e-2], [4, 8], [8, 16]);
        Assert.Equal(8, sweep.Points.Distinct().Count());
        // a made-up loss surface with its minimum at lr 1e-2, r 8, alpha 16
        var report = sweep.Run(p => new TrialScore(Math.Abs(Math.Log10(p.LearningRate) + 2) + Math.Abs(p.Rank - 8) + Math.Abs(p.Alpha - 16) / 8));
        Assert.Equal(new SweepPoint(1e-2, 8, 16), report.Best.Point);
        Assert.Equal(8, report.Rows().Count);
        Assert.Contains("Plotly.newPlot", report.ToHtml());
        // with a metric on every trial, the highest metric wins
        var byMetric = sweep.Run(p => new TrialScore(1.0, Metric: p.Rank + p.LearningRate));
        Assert.Equal(8, byMetric.Best.Point.Rank);
        Assert.Equal(1e-2, byMetric.Best.Point.LearningRate);
    }

    [Fact]
    public void Random_points_are_seeded_log_uniform_and_within_bounds()
    {
        var a = Sweep.Random(200, 1e-4, 1e-2, [4, 8, 16], [16, 32], seed: 3);
        var b = Sweep.Random(200, 1e-4, 1e-2, [4, 8, 16], [16, 32], seed: 3);
        Assert.Equal(a.Points, b.Points);
        Assert.All(a.Points, p => Assert.InRange(p.LearningRate, 1e-4, 1e-2));
        // log-uniform: about half the points fall below the geometric mean 1e-3
        Assert.InRange(a.Points.Count(p => p.LearningRate < 1e-3), 70, 130);
        Assert.Equal(3, a.Points.Select(p => p.Rank).Distinct().Count());
    }

    [Fact]
    public void A_real_trial_trains_an_adapter_per_point()
    {
        var data = Enumerable.Range(0, 16).Select(i => TokenizedExample.PromptCompletion([1 + i % 5, 2], [10 + i % 5])).ToList();
        var report = Sweep.Grid([1e-3, 5e-2], [2], [4]).Run(p =>
        {
            using var model = TinyModels.Random(TinyModels.Llama(tied: true), seed: 2);
            using (TorchSharp.torch.no_grad()) model.Module.EmbeddingMatrix.mul_(25);
            model.AddLora(r: p.Rank, alpha: p.Alpha, targets: ["all-linear"], dropout: 0);
            Trainer.For(model).LearningRate(p.LearningRate).Schedule(LrScheduleKind.Constant).Steps(15).BatchSize(8).Seed(1).Fit(data);
            return new TrialScore(Trainer.LossPerToken(model, data));
        });
        Assert.Equal(5e-2, report.Best.Point.LearningRate);     // the larger rate learns more in 15 steps
    }
}
