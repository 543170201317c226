namespace FineTune.Kit.Explain;

/// <summary>
/// KernelSHAP (Lundberg &amp; Lee 2017): Shapley values estimated by a weighted linear regression over coalitions with
/// the Shapley kernel weight (M−1) / (C(M,|z|)·|z|·(M−|z|)).
/// <list type="bullet">
/// <item>Coalition sizes are visited from the extremes inwards (1 and M−1, then 2 and M−2, ...); while the share of the
/// remaining budget that the pair's kernel mass claims covers all its coalitions, the pair is enumerated completely
/// with exact kernel weights.</item>
/// <item>The remaining sizes are sampled with the seeded generator: a size is drawn in proportion to its kernel mass,
/// a random coalition of that size is taken together with its complement (paired sampling); repeats add weight
/// instead of evaluations.</item>
/// <item>The regression is solved under the efficiency constraint Σφ = f(x) − f(∅) by eliminating the last variable,
/// so the attributions add up exactly.</item>
/// </list>
/// When the budget covers all 2^M − 2 proper coalitions, the result equals exact Shapley values.
/// </summary>
public sealed class KernelShap : PerturbationExplainer<KernelShap>
{
    /// <summary>Coalitions to evaluate besides ∅ and the full set; null means 2·M + 2048.</summary>
    public int? BudgetValue { get; private set; }

    /// <summary>Sets how many coalitions (besides ∅ and the full set) may be evaluated.</summary>
    public KernelShap Budget(int coalitions)
    {
        if (coalitions < 1) throw new ArgumentOutOfRangeException(nameof(coalitions), $"The KernelSHAP budget must be positive, got {coalitions}.");
        BudgetValue = coalitions;
        return this;
    }

    /// <summary>The budget used for M features when none is set: 2·M + 2048.</summary>
    public static int DefaultBudget(int featureCount) => 2 * featureCount + 2048;

    /// <inheritdoc/>
    public override Attribution Explain(FeatureSet features, CoalitionValue value)
    {
        int m = features.Count;
        var evaluator = Evaluator(features, value);
        var empty = evaluator.Uniform(false);
        var full = evaluator.Uniform(true);
        var ends = evaluator.Evaluate([empty, full]);
        double f0 = ends[0], fx = ends[1];
        if (m <= 1)
            return Result(features, m == 1 ? [fx - f0] : [], f0, fx, evaluator, samples: 0, ridge: 0, enumeratedPairs: 0);

        int budget = BudgetValue ?? DefaultBudget(m);
        int enumeratedSizes = m / 2;
        var rows = m < 31 && budget >= (1L << m) - 2 ? EnumerateAll(m) : Sample(m, budget, out enumeratedSizes);
        var y = evaluator.Evaluate(rows.Select(r => r.Mask).ToArray());
        var phi = SolveConstrained(rows, y, f0, fx, out var ridge);
        return Result(features, phi, f0, fx, evaluator, rows.Count, ridge, enumeratedSizes);
    }

    private Attribution Result(FeatureSet features, double[] phi, double f0, double fx,
        CoalitionEvaluator evaluator, int samples, double ridge, int enumeratedPairs)
    {
        // how much of the answer is exact: size pairs (s, M−s) enumerated completely out of all M/2 pairs
        var diagnostics = new Dictionary<string, double>
        {
            ["budget"] = BudgetValue ?? DefaultBudget(features.Count),
            ["enumerated_size_pairs"] = enumeratedPairs,
            ["size_pairs"] = features.Count / 2,
        };
        if (ridge > 0) diagnostics["ridge"] = ridge;
        return new Attribution("kernel_shap", features.Names, phi, f0, fx)
        {
            Target = Target,
            Evaluations = evaluator.Evaluations,
            Samples = samples,
            Diagnostics = diagnostics,
            Source = features,
        };
    }

    /// <summary>One regression row: a coalition and its kernel weight (sampled rows gain weight when drawn again).</summary>
    internal sealed class Row(bool[] mask, double weight)
    {
        public bool[] Mask { get; } = mask;
        public double Weight { get; set; } = weight;
    }

    /// <summary>Kernel mass of each coalition size s = 1..M−1, summed over all coalitions of that size.</summary>
    internal static double SizeMass(int m, int s) => (m - 1.0) / (s * (double)(m - s));

    private static List<Row> EnumerateAll(int m)
    {
        var rows = new List<Row>();
        for (long bits = 1; bits < (1L << m) - 1; bits++)
        {
            int s = System.Numerics.BitOperations.PopCount((ulong)bits);
            rows.Add(new Row(ExactShapley.MaskOf(bits, m), SizeMass(m, s) / LinearSystems.Choose(m, s)));
        }
        return rows;
    }

    private List<Row> Sample(int m, int budget, out int fullPairs)
    {
        // sizes s and M−s form one "size pair"; the middle size of an even M stands alone
        int pairCount = m / 2;                      // size pairs s = 1..ceil((M−1)/2)
        int pairedCount = (m - 1) / 2;              // pairs whose two sizes differ
        var pairMass = new double[pairCount + 1];
        for (int s = 1; s <= pairCount; s++) pairMass[s] = SizeMass(m, s) * (s <= pairedCount ? 2 : 1);
        double totalMass = pairMass.Sum();
        for (int s = 1; s <= pairCount; s++) pairMass[s] /= totalMass;

        var rows = new List<Row>();
        int left = budget;
        fullPairs = 0;
        double massLeft = 1;
        for (int s = 1; s <= pairCount; s++)
        {
            double subsets = LinearSystems.Choose(m, s) * (s <= pairedCount ? 2 : 1);
            // enumerate the pair completely if its share of the remaining budget covers every coalition in it
            if (subsets > left || left * (pairMass[s] / massLeft) < subsets - 1e-8) break;
            fullPairs++;
            left -= (int)subsets;
            massLeft -= pairMass[s];
            double w = SizeMass(m, s) / LinearSystems.Choose(m, s) / totalMass;
            foreach (var mask in Combinations(m, s))
            {
                rows.Add(new Row(mask, w));
                if (s <= pairedCount) rows.Add(new Row(Complement(mask), w));
            }
        }
        if (fullPairs == pairCount || left <= 0) return rows;

        // sample the rest: pick a size pair by its kernel mass, a random coalition of that size, and its complement
        var rng = new Random(SeedValue);
        var cumulative = new List<(int Size, double Cum)>();
        double acc = 0;
        // a paired draw yields two rows, the middle size one: drawing in proportion to the one-size mass makes the
        // expected weight of each size match its kernel mass
        for (int s = fullPairs + 1; s <= pairCount; s++) { acc += SizeMass(m, s); cumulative.Add((s, acc)); }
        var index = new Dictionary<bool[], Row>(MaskComparer.Instance);
        var sampled = new List<Row>();
        int draws = 0, maxDraws = 4 * left + 64;
        var order = Enumerable.Range(0, m).ToArray();
        while (left > 0 && draws++ < maxDraws)
        {
            double u = rng.NextDouble() * acc;
            int size = cumulative.First(c => u < c.Cum || c == cumulative[^1]).Size;
            // partial Fisher–Yates: the first `size` entries become a uniform random subset
            for (int i = 0; i < size; i++)
            {
                int k = i + rng.Next(m - i);
                (order[i], order[k]) = (order[k], order[i]);
            }
            var mask = new bool[m];
            for (int i = 0; i < size; i++) mask[order[i]] = true;
            // the middle size of an even M is its own complement class: take the complement only for true pairs
            var drawn = size <= pairedCount ? new[] { mask, Complement(mask) } : new[] { mask };
            foreach (var d in drawn)
            {
                if (index.TryGetValue(d, out var row)) row.Weight += 1;
                else if (left > 0)
                {
                    row = new Row(d, 1);
                    index[d] = row;
                    sampled.Add(row);
                    left--;
                }
            }
        }
        // the sampled rows share the kernel mass the enumerated sizes did not take, in proportion to their draws
        double drawnWeight = sampled.Sum(r => r.Weight);
        foreach (var r in sampled) r.Weight *= massLeft / drawnWeight;
        rows.AddRange(sampled);
        return rows;
    }

    /// <summary>
    /// Weighted least squares of f(z) − f(∅) on z under Σφ = f(x) − f(∅): substituting φ_M = Δ − Σ_{j&lt;M} φ_j leaves an
    /// unconstrained problem in M−1 unknowns, solved through its normal equations.
    /// </summary>
    internal static double[] SolveConstrained(IReadOnlyList<Row> rows, double[] y, double f0, double fx, out double ridge)
    {
        int m = rows[0].Mask.Length;
        double delta = fx - f0;
        int n = m - 1;
        var ata = new double[n, n];
        var atb = new double[n];
        var x = new double[n];
        for (int r = 0; r < rows.Count; r++)
        {
            var z = rows[r].Mask;
            double last = z[m - 1] ? 1 : 0;
            double t = y[r] - f0 - last * delta;
            for (int j = 0; j < n; j++) x[j] = (z[j] ? 1 : 0) - last;
            double w = rows[r].Weight;
            for (int i = 0; i < n; i++)
            {
                if (x[i] == 0) continue;
                double wi = w * x[i];
                atb[i] += wi * t;
                for (int j = 0; j <= i; j++) ata[i, j] += wi * x[j];
            }
        }
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) ata[i, j] = ata[j, i];
        var beta = LinearSystems.SolveSymmetric(ata, atb, out ridge);
        var phi = new double[m];
        Array.Copy(beta, phi, n);
        phi[m - 1] = delta - beta.Sum();
        return phi;
    }

    internal static IEnumerable<bool[]> Combinations(int m, int s)
    {
        var idx = Enumerable.Range(0, s).ToArray();
        while (true)
        {
            var mask = new bool[m];
            foreach (var i in idx) mask[i] = true;
            yield return mask;
            int p = s - 1;
            while (p >= 0 && idx[p] == m - s + p) p--;
            if (p < 0) yield break;
            idx[p]++;
            for (int q = p + 1; q < s; q++) idx[q] = idx[q - 1] + 1;
        }
    }

    internal static bool[] Complement(bool[] mask) => mask.Select(b => !b).ToArray();
}
