using FineTune.Kit.Explain;

namespace FineTune.Kit.Tests.Explain;

public class ExplainProgressTests
{
    private sealed class Recorder : IProgress<ExplainProgress>
    {
        public List<ExplainProgress> Reports { get; } = [];
        public void Report(ExplainProgress value) => Reports.Add(value);
    }

    [Fact]
    public void Progress_is_reported_per_batch_and_cancellation_stops_between_batches()
    {
        var g = Game.Interacting(6);
        var recorder = new Recorder();
        new ExactShapley().InBatchesOf(16).ReportingTo(recorder).Explain(g.Features, g.Evaluate);
        Assert.Equal(4, recorder.Reports.Count);
        Assert.Equal(new ExplainProgress(64, 4), recorder.Reports[^1]);

        using var cts = new CancellationTokenSource();
        int calls = 0;
        CoalitionValue cancelling = c => { if (++calls == 2) cts.Cancel(); return g.Evaluate(c); };
        Assert.Throws<OperationCanceledException>(() =>
            new KernelShap().InBatchesOf(8).Cancellation(cts.Token).Explain(g.Features, cancelling));
        Assert.Equal(2, calls);
    }
}
