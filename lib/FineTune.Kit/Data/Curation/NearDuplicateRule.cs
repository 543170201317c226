using System.Globalization;

namespace FineTune.Kit.Data.Curation;

/// <summary>
/// Drops near duplicates (MinHash + LSH, see <see cref="NearDuplicateDetector"/>): in each cluster the first row in
/// input order is kept and the others are removed, each with the line it duplicates and the similarity.
/// </summary>
public sealed class NearDuplicateRule(NearDuplicateOptions? options = null, IReadOnlyList<string>? columns = null) : IStreamingCurationRule
{
    /// <summary>The detector settings.</summary>
    public NearDuplicateOptions Options { get; } = options ?? new NearDuplicateOptions();

    /// <inheritdoc/>
    public string Name => "drop_near_duplicates";

    /// <summary>
    /// Streams: each row is compared with the rows before it through MinHash signatures and LSH buckets kept in
    /// memory (see <see cref="StreamingNearDuplicates"/>); similarity is the MinHash estimate, not exact Jaccard.
    /// </summary>
    public RowStage Begin() => new StreamingNearDuplicates(Options, columns);

    /// <inheritdoc/>
    public RuleOutcome Apply(IReadOnlyList<Example> rows)
    {
        var detector = new NearDuplicateDetector(Options);
        var texts = rows.Select(r => r.Content(columns)).ToList();
        var pairs = detector.FindPairs(texts);
        // best similarity of each removed row to any row of its cluster, for the reason text
        var best = new Dictionary<int, double>();
        foreach (var p in pairs)
        {
            best[p.Second] = Math.Max(best.GetValueOrDefault(p.Second), p.Similarity);
            best[p.First] = Math.Max(best.GetValueOrDefault(p.First), p.Similarity);
        }
        var removed = new Dictionary<int, int>(); // index -> kept index of its cluster
        var clusters = new List<DuplicateCluster>();
        foreach (var cluster in NearDuplicateDetector.Clusters(rows.Count, pairs))
        {
            foreach (var i in cluster.Skip(1)) removed[i] = cluster[0];
            clusters.Add(new DuplicateCluster("near", rows[cluster[0]].Line, cluster.Skip(1).Select(i => rows[i].Line).ToList()));
        }
        var kept = new List<Example>(rows.Count);
        var changes = new List<RowChange>();
        for (int i = 0; i < rows.Count; i++)
        {
            if (!removed.TryGetValue(i, out var keptIndex)) { kept.Add(rows[i]); continue; }
            var similarity = best[i].ToString("0.00", CultureInfo.InvariantCulture);
            changes.Add(new RowChange(rows[i].Line, ChangeKind.Removed,
                $"near duplicate of line {rows[keptIndex].Line} (Jaccard {similarity})", texts[i]));
        }
        var settings = $"texts shingled after normalisation: {Options.TextNormalization.Describe()}; " +
            $"{Options.ShingleSize}-{(Options.Unit == ShingleUnit.Char ? "character" : "word")} shingles, Jaccard threshold " +
            Options.Threshold.ToString("0.###", CultureInfo.InvariantCulture);
        return new RuleOutcome(kept, changes) { Clusters = clusters, Notes = [settings] };
    }
}
