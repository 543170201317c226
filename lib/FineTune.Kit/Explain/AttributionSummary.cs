namespace FineTune.Kit.Explain;

/// <summary>How one feature text behaved across a dataset of explanations.</summary>
/// <param name="Feature">The normalised feature text.</param>
/// <param name="MeanAttribution">Mean attribution over the occurrences.</param>
/// <param name="MeanAbsoluteAttribution">Mean absolute attribution over the occurrences.</param>
/// <param name="Occurrences">How many times the feature occurred.</param>
public sealed record FeatureImportance(string Feature, double MeanAttribution, double MeanAbsoluteAttribution, int Occurrences);

/// <summary>Dataset-level summaries of many <see cref="Attribution"/>s.</summary>
public static class AttributionSummary
{
    /// <summary>
    /// For each class, the features (tokens or words, trimmed and lower-cased unless <paramref name="caseSensitive"/>)
    /// with the highest mean attribution over their occurrences in explanations of that class. Features seen fewer than
    /// <paramref name="minOccurrences"/> times are skipped: a word seen once says little about the model.
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<FeatureImportance>> TopFeaturesPerClass(
        IEnumerable<(Attribution Attribution, string Label)> explained, int top = 10, int minOccurrences = 2,
        bool caseSensitive = false)
    {
        var sums = new Dictionary<string, Dictionary<string, (double Sum, double Abs, int Count)>>(StringComparer.Ordinal);
        foreach (var (a, label) in explained)
        {
            if (!sums.TryGetValue(label, out var perFeature))
                sums[label] = perFeature = new Dictionary<string, (double, double, int)>(StringComparer.Ordinal);
            for (int i = 0; i < a.Values.Length; i++)
            {
                var key = a.Features[i].Trim();
                if (!caseSensitive) key = key.ToLowerInvariant();
                if (key.Length == 0) continue;
                var s = perFeature.GetValueOrDefault(key);
                perFeature[key] = (s.Sum + a.Values[i], s.Abs + Math.Abs(a.Values[i]), s.Count + 1);
            }
        }
        var result = new SortedDictionary<string, IReadOnlyList<FeatureImportance>>(StringComparer.Ordinal);
        foreach (var (label, perFeature) in sums)
            result[label] = perFeature.Where(kv => kv.Value.Count >= minOccurrences)
                .Select(kv => new FeatureImportance(kv.Key, kv.Value.Sum / kv.Value.Count, kv.Value.Abs / kv.Value.Count, kv.Value.Count))
                .OrderByDescending(f => f.MeanAttribution).ThenBy(f => f.Feature, StringComparer.Ordinal)
                .Take(top).ToArray();
        return result;
    }
}
