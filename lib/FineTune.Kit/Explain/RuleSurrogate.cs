using System.Globalization;

namespace FineTune.Kit.Explain;

/// <summary>One printed rule: the conditions on a path from the root to a leaf and what the leaf predicts.</summary>
/// <param name="Conditions">e.g. <c>contains "good"</c>, <c>not contains "bad"</c>.</param>
/// <param name="Label">The predicted label.</param>
/// <param name="Support">Training rows that reach the leaf.</param>
/// <param name="Purity">Share of those rows whose model label equals <paramref name="Label"/>.</param>
public sealed record SurrogateRule(IReadOnlyList<string> Conditions, string Label, int Support, double Purity)
{
    /// <summary>"if A and B then label" (or "otherwise label" for the unconditional rule).</summary>
    public override string ToString() =>
        (Conditions.Count == 0 ? "always" : "if " + string.Join(" and ", Conditions)) +
        string.Create(CultureInfo.InvariantCulture, $" then {Label}  ({Support} rows, {Purity * 100:F0}% agree)");
}

/// <summary>
/// A shallow decision tree (depth ≤ 3, Gini impurity, binary "text contains token" features) fitted to a model's
/// predicted labels, readable as if-then rules. Fidelity is the share of held-out rows on which the tree agrees with the
/// model: how far the rules can be trusted as a description of the model on this data.
/// </summary>
public sealed class RuleSurrogate
{
    /// <summary>Deepest allowed tree (1..3, default 3).</summary>
    public int MaxDepthValue { get; private set; } = 3;

    /// <summary>Fewest training rows in a leaf (default 2).</summary>
    public int MinLeafValue { get; private set; } = 2;

    /// <summary>A token becomes a candidate only if it occurs in at least this many training rows (default 2).</summary>
    public int MinTokenRowsValue { get; private set; } = 2;

    /// <summary>Share of rows held out to measure fidelity (default 0.25).</summary>
    public double HoldOutValue { get; private set; } = 0.25;

    /// <summary>Seed of the train / held-out split.</summary>
    public int SeedValue { get; private set; } = Seeds.Default;

    /// <summary>Limits the depth (at most 3 so the rules stay readable).</summary>
    public RuleSurrogate MaxDepth(int depth)
    {
        if (depth < 1 || depth > 3) throw new ArgumentOutOfRangeException(nameof(depth), $"The surrogate tree depth must be 1..3, got {depth}.");
        MaxDepthValue = depth;
        return this;
    }

    /// <summary>Sets the smallest leaf.</summary>
    public RuleSurrogate MinLeaf(int rows)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), $"A leaf needs at least one row, got {rows}.");
        MinLeafValue = rows;
        return this;
    }

    /// <summary>Sets how often a token must occur to be used.</summary>
    public RuleSurrogate MinTokenRows(int rows)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), $"A token must occur in at least one row, got {rows}.");
        MinTokenRowsValue = rows;
        return this;
    }

    /// <summary>Sets the held-out share (0 measures fidelity on the training rows).</summary>
    public RuleSurrogate HoldOut(double share)
    {
        if (!(share >= 0 && share < 1)) throw new ArgumentOutOfRangeException(nameof(share), $"The held-out share must be in [0, 1), got {share}.");
        HoldOutValue = share;
        return this;
    }

    /// <summary>Seeds the split.</summary>
    public RuleSurrogate Seed(int seed)
    {
        SeedValue = seed;
        return this;
    }

    /// <summary>Lower-cased word tokens of a text (the default tokenisation for <see cref="Fit(IReadOnlyList{string}, IReadOnlyList{string})"/>).</summary>
    public static IReadOnlySet<string> WordsOf(string text) =>
        FeatureSet.WordSpans(text).Select(s => text[s.Start..s.End].ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);

    /// <summary>Fits to texts and the labels the model predicted for them, tokenised into lower-cased words.</summary>
    public SurrogateTree Fit(IReadOnlyList<string> texts, IReadOnlyList<string> modelLabels) =>
        Fit(texts.Select(WordsOf).ToArray(), modelLabels);

    /// <summary>Fits to token sets (one per row) and the labels the model predicted.</summary>
    public SurrogateTree Fit(IReadOnlyList<IReadOnlySet<string>> rows, IReadOnlyList<string> modelLabels)
    {
        if (rows.Count != modelLabels.Count)
            throw new ArgumentException($"{rows.Count} rows but {modelLabels.Count} model labels.");
        if (rows.Count < 2) throw new ArgumentException("A surrogate needs at least two rows.");
        var order = Enumerable.Range(0, rows.Count).ToArray();
        new Random(SeedValue).Shuffle(order);
        int held = HoldOutValue > 0 ? Math.Max(1, (int)Math.Round(rows.Count * HoldOutValue)) : 0;
        held = Math.Min(held, rows.Count - 1);
        var test = order.Take(held).Order().ToArray();
        var train = order.Skip(held).Order().ToArray();

        // label ids in ordinal order, so ties between labels break the same way on every run
        var labelNames = modelLabels.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var labelId = labelNames.Select((l, k) => (l, k)).ToDictionary(p => p.l, p => p.k, StringComparer.Ordinal);
        var y = modelLabels.Select(l => labelId[l]).ToArray();
        // postings: for each candidate token, the training rows that contain it
        var postings = new SortedDictionary<string, List<int>>(StringComparer.Ordinal);
        foreach (var i in train)
            foreach (var t in rows[i])
            {
                if (!postings.TryGetValue(t, out var list)) postings[t] = list = [];
                list.Add(i);
            }
        var candidates = postings.Where(p => p.Value.Count >= MinTokenRowsValue).Select(p => (p.Key, p.Value.ToArray())).ToArray();
        var grower = new Grower(this, y, labelNames, candidates, rows.Count);
        var root = grower.Grow(train, depth: 0);
        var tree = new SurrogateTree(root);
        var check = test.Length > 0 ? test : train;
        double agree = check.Count(i => tree.Predict(rows[i]) == modelLabels[i]) / (double)check.Length;
        double trainAgree = train.Count(i => tree.Predict(rows[i]) == modelLabels[i]) / (double)train.Length;
        return tree.WithFidelity(agree, trainAgree, test.Length, train.Length);
    }

    /// <summary>CART growth on token-presence splits; counting walks each token's posting list, not every row.</summary>
    private sealed class Grower(RuleSurrogate settings, int[] y, string[] labelNames,
        (string Token, int[] Rows)[] candidates, int rowCount)
    {
        private readonly bool[] _inNode = new bool[rowCount];

        public SurrogateNode Grow(int[] idx, int depth)
        {
            var counts = Counts(idx);
            int majority = 0;
            for (int k = 1; k < counts.Length; k++) if (counts[k] > counts[majority]) majority = k;
            var leaf = new SurrogateNode(null, null, null, labelNames[majority], idx.Length, counts[majority] / (double)idx.Length);
            if (depth >= settings.MaxDepthValue || counts[majority] == idx.Length || idx.Length < 2 * settings.MinLeafValue) return leaf;

            foreach (var i in idx) _inNode[i] = true;
            double parentGini = Gini(counts, idx.Length);
            int best = -1;
            double bestGain = 1e-12;
            var with = new int[labelNames.Length];
            var without = new int[labelNames.Length];
            for (int c = 0; c < candidates.Length; c++)
            {
                Array.Clear(with);
                int nWith = 0;
                foreach (var i in candidates[c].Rows)
                    if (_inNode[i]) { nWith++; with[y[i]]++; }
                int nWithout = idx.Length - nWith;
                if (nWith < settings.MinLeafValue || nWithout < settings.MinLeafValue) continue;
                for (int k = 0; k < counts.Length; k++) without[k] = counts[k] - with[k];
                double gain = parentGini - (nWith * Gini(with, nWith) + nWithout * Gini(without, nWithout)) / idx.Length;
                if (gain > bestGain) { bestGain = gain; best = c; }
            }
            foreach (var i in idx) _inNode[i] = false;
            if (best < 0) return leaf;

            var present = new HashSet<int>(candidates[best].Rows);
            var yes = idx.Where(present.Contains).ToArray();
            var no = idx.Where(i => !present.Contains(i)).ToArray();
            return leaf with
            {
                Token = candidates[best].Token,
                Present = Grow(yes, depth + 1),
                Absent = Grow(no, depth + 1),
            };
        }

        private int[] Counts(int[] idx)
        {
            var c = new int[labelNames.Length];
            foreach (var i in idx) c[y[i]]++;
            return c;
        }

        private static double Gini(int[] counts, int n)
        {
            if (n == 0) return 0;
            double s = 1;
            foreach (var c in counts) s -= (c / (double)n) * (c / (double)n);
            return s;
        }
    }
}
