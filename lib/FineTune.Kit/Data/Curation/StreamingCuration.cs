using System.Diagnostics;

namespace FineTune.Kit.Data.Curation;

/// <summary>
/// A rule that can judge rows one at a time, in input order, without holding the rows it has seen: text rewrites and
/// row filters keep nothing, exact deduplication keeps a 128-bit hash per distinct text, near deduplication keeps a
/// MinHash signature and LSH bucket entries per row (see <see cref="StreamingNearDuplicates"/>). Rules that need every
/// row at once (label conflicts, class caps, label spelling and noise) do not implement it.
/// </summary>
public interface IStreamingCurationRule : ICurationRule
{
    /// <summary>Starts a pass over a stream of rows; the stage judges each row as it arrives.</summary>
    RowStage Begin();
}

/// <summary>One streaming pass of a rule: what it does to each row, and notes for the report at the end.</summary>
public abstract class RowStage
{
    /// <summary>The row to pass on (null when the rule drops it) and the change made, if any.</summary>
    public abstract (Example? Kept, RowChange? Change) Process(Example row);

    /// <summary>Findings for the report once the stream has ended (settings, index sizes).</summary>
    public virtual IReadOnlyList<string> Notes => [];
}

/// <summary>A row stage from a function (for rules that judge each row on its own).</summary>
public sealed class FuncRowStage(Func<Example, (Example?, RowChange?)> process) : RowStage
{
    /// <inheritdoc/>
    public override (Example? Kept, RowChange? Change) Process(Example row) => process(row);
}

/// <summary>What a streaming curation pass did: rows in and out, and per rule the counts, reasons and first examples.</summary>
public sealed record StreamingCurationSummary(long InputRows, long OutputRows, IReadOnlyList<RuleSummary> Rules, double Seconds)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"{InputRows} rows in, {OutputRows} out in {Seconds:F1} s; " + string.Join("; ", Rules.Select(r => $"{r.Name}: -{r.Removed} ~{r.Modified}"));
}

/// <summary>Curation over a stream of rows (<see cref="CurationPipeline.Run"/> holds the whole data set).</summary>
public static class StreamingCuration
{
    /// <summary>The rules of <paramref name="pipeline"/> that cannot stream (empty when all can).</summary>
    public static IReadOnlyList<string> NonStreamingRules(this CurationPipeline pipeline) =>
        pipeline.Rules.Where(r => r is not IStreamingCurationRule).Select(r => r.Name).ToList();

    /// <summary>
    /// Runs the pipeline's rules over <paramref name="rows"/> one row at a time and hands every kept row to
    /// <paramref name="keep"/> as soon as the last rule has passed it, so memory holds the rules' indexes, not the
    /// rows. Every rule must implement <see cref="IStreamingCurationRule"/>; otherwise this throws naming the rules
    /// that need the whole data set. Near duplicates are judged against earlier rows only: a row is removed when it
    /// is similar to a row before it (the in-memory run also removes a row joined to its cluster only through a later row).
    /// </summary>
    public static StreamingCurationSummary RunStreaming(this CurationPipeline pipeline, IEnumerable<Example> rows, Action<Example> keep)
    {
        var blocked = pipeline.NonStreamingRules();
        if (blocked.Count > 0)
            throw new ArgumentException($"curation rules {string.Join(", ", blocked)} need every row at once and cannot stream; run them on a loaded Dataset");
        var stages = pipeline.Rules.Select(r => ((IStreamingCurationRule)r).Begin()).ToArray();
        var tallies = pipeline.Rules.Select(r => new Tally(r.Name)).ToArray();
        long input = 0, output = 0;
        var clock = Stopwatch.StartNew();
        foreach (var row in rows)
        {
            input++;
            Example? current = row;
            for (int s = 0; s < stages.Length && current is not null; s++)
            {
                var (kept, change) = stages[s].Process(current);
                if (change is not null) tallies[s].Add(change);
                current = kept;
            }
            if (current is null) continue;
            output++;
            keep(current);
        }
        var reports = tallies.Select((t, i) => t.ToReport(stages[i].Notes)).ToList();
        return new StreamingCurationSummary(input, output, reports, clock.Elapsed.TotalSeconds);
    }

    private sealed class Tally(string name)
    {
        private readonly Dictionary<string, int> _reasons = [];
        private readonly List<RowChange> _examples = [];
        private int _removed, _modified;

        public void Add(RowChange change)
        {
            if (change.Kind == ChangeKind.Removed) _removed++;
            else _modified++;
            var kind = CurationPipeline.ReasonKind(change.Reason);
            _reasons[kind] = _reasons.GetValueOrDefault(kind) + 1;
            if (_examples.Count < RuleSummary.ExampleCount) _examples.Add(change);
        }

        public RuleSummary ToReport(IReadOnlyList<string> notes) => new(name, _removed, _modified, _reasons, _examples, notes);
    }
}
