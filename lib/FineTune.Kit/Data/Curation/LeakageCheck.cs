namespace FineTune.Kit.Data.Curation;

/// <summary>A row that appears (exactly or nearly) in two different splits.</summary>
public sealed record Leak(string Kind, string SplitA, int LineA, string SplitB, int LineB, double Similarity);

/// <summary>
/// Finds rows shared between splits: exact duplicates by normalised text and near duplicates by MinHash + LSH.
/// A leak means the validation or test score measures memory, not generalisation.
/// </summary>
public static class LeakageCheck
{
    /// <summary>Checks train/validation/test; <paramref name="near"/> null checks exact duplicates only.</summary>
    public static IReadOnlyList<Leak> Find(DatasetSplits splits, NearDuplicateOptions? near = null, IReadOnlyList<string>? columns = null) =>
        Find([("train", splits.Train), ("validation", splits.Validation), ("test", splits.Test)], near ?? new NearDuplicateOptions(), columns);

    /// <summary>Checks any named parts against each other.</summary>
    public static IReadOnlyList<Leak> Find(IReadOnlyList<(string Name, Dataset Data)> parts, NearDuplicateOptions? near, IReadOnlyList<string>? columns = null)
    {
        var rows = parts.SelectMany(p => p.Data.Rows.Select(r => (Part: p.Name, Row: r))).ToList();
        var texts = rows.Select(x => x.Row.Content(columns)).ToList();
        var leaks = new List<Leak>();
        var exactPairs = new HashSet<(int, int)>();
        var firstByKey = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int i = 0; i < rows.Count; i++)
        {
            var key = TextKey.Of(texts[i]);
            if (!firstByKey.TryGetValue(key, out var list)) firstByKey[key] = list = [];
            // one leak per other split is enough to point at the problem
            foreach (var j in list.Where(j => rows[j].Part != rows[i].Part).GroupBy(j => rows[j].Part).Select(g => g.First()))
            {
                leaks.Add(new Leak("exact", rows[j].Part, rows[j].Row.Line, rows[i].Part, rows[i].Row.Line, 1));
                exactPairs.Add((j, i));
            }
            list.Add(i);
        }
        if (near is not null)
            foreach (var p in new NearDuplicateDetector(near).FindPairs(texts))
                if (rows[p.First].Part != rows[p.Second].Part && !exactPairs.Contains((p.First, p.Second))
                    && TextKey.Of(texts[p.First]) != TextKey.Of(texts[p.Second]))
                    leaks.Add(new Leak("near", rows[p.First].Part, rows[p.First].Row.Line, rows[p.Second].Part, rows[p.Second].Row.Line, p.Similarity));
        return leaks;
    }
}
