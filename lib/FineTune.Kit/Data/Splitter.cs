namespace FineTune.Kit.Data;

/// <summary>
/// Seeded, reproducible splitting: plain, stratified by a label column, group-aware by a key column, or both.
/// Groups are kept whole; within each stratum the rows (or groups) are shuffled with <c>new Random(seed)</c> and
/// dealt so each split gets its share.
/// </summary>
public static class Splitter
{
    /// <summary>Splits into train/validation/test by the given fractions (they must sum to 1).</summary>
    public static DatasetSplits Split(Dataset data, double train, double validation, double test,
        string? stratifyBy = null, string? groupBy = null, int seed = Seeds.Default)
    {
        double[] fractions = [train, validation, test];
        if (fractions.Any(f => f < 0 || double.IsNaN(f)) || Math.Abs(fractions.Sum() - 1) > 1e-6)
            throw new ArgumentException($"split fractions must be non-negative and sum to 1, got {train}, {validation}, {test}");
        var assignment = Assign(data, fractions, stratifyBy, groupBy, seed);
        var parts = Enumerable.Range(0, 3).Select(s => data.Derive(data.Rows.Where((_, i) => assignment[i] == s))).ToArray();
        return new DatasetSplits(parts[0], parts[1], parts[2]);
    }

    /// <summary>Deals rows (or whole groups) into <paramref name="k"/> folds of near-equal size.</summary>
    public static IReadOnlyList<Fold> KFold(Dataset data, int k, string? stratifyBy = null, string? groupBy = null, int seed = Seeds.Default)
    {
        if (k < 2) throw new ArgumentException($"k-fold needs k >= 2, got {k}");
        var assignment = Assign(data, Enumerable.Repeat(1.0 / k, k).ToArray(), stratifyBy, groupBy, seed);
        return Enumerable.Range(0, k).Select(f => new Fold(f,
            data.Derive(data.Rows.Where((_, i) => assignment[i] != f)),
            data.Derive(data.Rows.Where((_, i) => assignment[i] == f)))).ToList();
    }

    /// <summary>The split (bucket) index of every row.</summary>
    public static int[] Assign(Dataset data, double[] fractions, string? stratifyBy, string? groupBy, int seed)
    {
        var rows = data.Rows;
        // a unit is one row, or one group of rows sharing the group key
        var units = new List<List<int>>();
        if (groupBy is null) units.AddRange(Enumerable.Range(0, rows.Count).Select(i => new List<int> { i }));
        else
        {
            var byKey = new Dictionary<string, List<int>>();
            for (int i = 0; i < rows.Count; i++)
            {
                var key = rows[i][groupBy] ?? throw new DataFormatException($"{data.Source ?? "dataset"}:{rows[i].Line}: group column '{groupBy}' is missing");
                if (!byKey.TryGetValue(key, out var list)) byKey[key] = list = [];
                list.Add(i);
            }
            units.AddRange(byKey.Values);
        }

        // stratum of a unit: its (majority) label; one stratum when not stratifying
        var strata = units.GroupBy(u => stratifyBy is null ? "" : MajorityLabel(rows, u, stratifyBy, data.Source))
                          .OrderBy(g => g.Key, StringComparer.Ordinal);
        var random = new Random(seed);
        var result = new int[rows.Count];
        var filled = new double[fractions.Length];
        foreach (var stratum in strata)
        {
            var list = stratum.ToList();
            Shuffle(list, random);
            int total = list.Sum(u => u.Count);
            var assigned = new double[fractions.Length];
            // the largest units first so that big groups do not overshoot a small split at the end
            IEnumerable<List<int>> order = groupBy is null ? list : list.OrderByDescending(u => u.Count);
            foreach (var unit in order)
            {
                int best = 0;
                double bestDeficit = double.NegativeInfinity;
                for (int s = 0; s < fractions.Length; s++)
                {
                    if (fractions[s] <= 0) continue;
                    // deficit within the stratum, ties broken by the global deficit so strata of one row spread out
                    double deficit = fractions[s] * total - assigned[s];
                    double tie = fractions[s] * (filled.Sum() + 1) - filled[s];
                    double score = deficit + 1e-6 * tie;
                    if (score > bestDeficit) { bestDeficit = score; best = s; }
                }
                assigned[best] += unit.Count;
                filled[best] += unit.Count;
                foreach (var i in unit) result[i] = best;
            }
        }
        return result;
    }

    private static string MajorityLabel(IReadOnlyList<Example> rows, List<int> unit, string column, string? source) =>
        unit.Select(i => rows[i][column] ?? throw new DataFormatException($"{source ?? "dataset"}:{rows[i].Line}: stratify column '{column}' is missing"))
            .GroupBy(l => l).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;

    /// <summary>Fisher-Yates shuffle with the given generator.</summary>
    public static void Shuffle<T>(IList<T> list, Random random)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }
}
