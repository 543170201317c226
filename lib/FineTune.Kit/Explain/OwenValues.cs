namespace FineTune.Kit.Explain;

/// <summary>
/// Hierarchical Owen (partition) values over a <see cref="FeatureTree"/>. At every level a feature's ancestor plays a
/// Shapley game against its siblings, with the siblings' features as whole blocks:
/// φ_i = Σ over sibling subsets R_0..R_{L−1} along the path of Π_l |R_l|!(k_l−|R_l|−1)!/k_l! · (f(∪R ∪ {i}) − f(∪R)),
/// where k_l is the number of children at level l. Efficient (Σφ = f(x) − f(∅)) and symmetric within groups; on a flat
/// tree (all singletons under the root) it is exactly the Shapley value. Cost per feature is Π 2^(k_l−1), so keep
/// groups small (<see cref="FeatureTree.Contiguous"/> gives about M² evaluations in all).
/// </summary>
public sealed class OwenValues : PerturbationExplainer<OwenValues>
{
    private FeatureTree? _tree;

    /// <summary>Refuses trees that need more marginal-contribution terms than this (default 1,000,000).</summary>
    public long MaxTerms { get; private set; } = 1_000_000;

    /// <summary>Uses the given hierarchy (default: a balanced binary tree over consecutive features).</summary>
    public OwenValues OverTree(FeatureTree tree)
    {
        _tree = tree;
        return this;
    }

    /// <summary>Changes the term limit.</summary>
    public OwenValues AllowingUpTo(long terms)
    {
        if (terms < 1) throw new ArgumentOutOfRangeException(nameof(terms), $"The term limit must be positive, got {terms}.");
        MaxTerms = terms;
        return this;
    }

    /// <inheritdoc/>
    public override Attribution Explain(FeatureSet features, CoalitionValue value)
    {
        int m = features.Count;
        var evaluator = Evaluator(features, value);
        var ends = evaluator.Evaluate([evaluator.Uniform(false), evaluator.Uniform(true)]);
        if (m == 0) return Result(features, [], ends, evaluator, 0);
        var tree = _tree ?? FeatureTree.Contiguous(m);
        tree.Validate(m);

        var leafPaths = new List<(int Feature, List<(FeatureTree Node, int Child)> Path)>();
        CollectPaths(tree, [], leafPaths);
        long terms = 0;
        foreach (var (_, path) in leafPaths)
        {
            long t = 1;
            foreach (var (node, _) in path)
            {
                int siblings = node.Children.Count - 1;
                if (siblings > 40) throw new ArgumentException($"A group has {siblings + 1} members; split it into smaller groups.");
                t = SaturatingMultiply(t, 1L << siblings);
            }
            terms = Math.Min(long.MaxValue / 2, terms + t);
        }
        if (terms > MaxTerms)
            throw new ArgumentException(
                $"This feature tree needs {terms} marginal contributions, above the limit of {MaxTerms}. " +
                "Use smaller groups (e.g. FeatureTree.Contiguous) or raise the limit with AllowingUpTo.");

        var phi = new double[m];
        var chunk = new List<(int Feature, double Weight, bool[] Without)>();
        void Flush()
        {
            if (chunk.Count == 0) return;
            var masks = new List<bool[]>(2 * chunk.Count);
            foreach (var (f, _, without) in chunk)
            {
                var with = (bool[])without.Clone();
                with[f] = true;
                masks.Add(without);
                masks.Add(with);
            }
            var v = evaluator.Evaluate(masks);
            for (int i = 0; i < chunk.Count; i++) phi[chunk[i].Feature] += chunk[i].Weight * (v[2 * i + 1] - v[2 * i]);
            chunk.Clear();
        }
        var featuresOf = new Dictionary<FeatureTree, int[]>(ReferenceEqualityComparer.Instance);
        int[] FeaturesOf(FeatureTree node)
        {
            if (!featuresOf.TryGetValue(node, out var fs)) featuresOf[node] = fs = node.Features().ToArray();
            return fs;
        }
        foreach (var (feature, path) in leafPaths)
        {
            // walk every choice of sibling subsets along the path, carrying the coalition and the weight product
            void Walk(int level, bool[] coalition, double weight)
            {
                if (level == path.Count)
                {
                    chunk.Add((feature, weight, coalition));
                    if (chunk.Count >= 4096) Flush();
                    return;
                }
                var (node, child) = path[level];
                var siblings = Enumerable.Range(0, node.Children.Count).Where(c => c != child).ToArray();
                int k = node.Children.Count;
                for (long subset = 0; subset < 1L << siblings.Length; subset++)
                {
                    var next = (bool[])coalition.Clone();
                    int size = 0;
                    for (int b = 0; b < siblings.Length; b++)
                        if ((subset >> b & 1) == 1)
                        {
                            size++;
                            foreach (var f in FeaturesOf(node.Children[siblings[b]])) next[f] = true;
                        }
                    Walk(level + 1, next, weight * LinearSystems.ShapleyWeight(k, size));
                }
            }
            Walk(0, new bool[m], 1.0);
        }
        Flush();
        return Result(features, phi, ends, evaluator, terms);
    }

    private Attribution Result(FeatureSet features, double[] phi, double[] ends, CoalitionEvaluator evaluator, long terms) =>
        new("owen", features.Names, phi, ends[0], ends[1])
        {
            Target = Target,
            Evaluations = evaluator.Evaluations,
            Samples = (int)Math.Min(int.MaxValue, terms),
            Source = features,
        };

    private static void CollectPaths(FeatureTree node, List<(FeatureTree, int)> path,
        List<(int, List<(FeatureTree Node, int Child)>)> into)
    {
        if (node.IsLeaf)
        {
            into.Add((node.Feature, [.. path]));
            return;
        }
        for (int c = 0; c < node.Children.Count; c++)
        {
            path.Add((node, c));
            CollectPaths(node.Children[c], path, into);
            path.RemoveAt(path.Count - 1);
        }
    }

    private static long SaturatingMultiply(long a, long b) => a > long.MaxValue / b ? long.MaxValue / 2 : a * b;
}
