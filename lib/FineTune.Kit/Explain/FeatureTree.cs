namespace FineTune.Kit.Explain;

/// <summary>
/// A hierarchy of feature groups for <see cref="OwenValues"/>: leaves are single features, inner nodes are groups
/// (words → phrases → sentences). Every feature 0..M−1 must appear in exactly one leaf.
/// </summary>
public sealed class FeatureTree
{
    private FeatureTree(int feature, IReadOnlyList<FeatureTree> children, string? label)
    {
        Feature = feature;
        Children = children;
        Label = label;
    }

    /// <summary>The feature of a leaf; -1 for a group.</summary>
    public int Feature { get; }

    /// <summary>The members of a group; empty for a leaf.</summary>
    public IReadOnlyList<FeatureTree> Children { get; }

    /// <summary>An optional name for a group (shown nowhere in the maths, handy in reports).</summary>
    public string? Label { get; }

    /// <summary>True for a single feature.</summary>
    public bool IsLeaf => Feature >= 0;

    /// <summary>A single feature.</summary>
    public static FeatureTree Leaf(int feature)
    {
        if (feature < 0) throw new ArgumentOutOfRangeException(nameof(feature), $"A feature index cannot be negative, got {feature}.");
        return new FeatureTree(feature, [], null);
    }

    /// <summary>A group of subtrees.</summary>
    public static FeatureTree Group(params FeatureTree[] children) => Group(null, children);

    /// <summary>A named group of subtrees.</summary>
    public static FeatureTree Group(string? label, IReadOnlyList<FeatureTree> children)
    {
        if (children.Count == 0) throw new ArgumentException($"Group '{label}' has no members.");
        return new FeatureTree(-1, children.ToArray(), label);
    }

    /// <summary>All features as direct children of the root: Owen values then equal Shapley values.</summary>
    public static FeatureTree Flat(int featureCount) =>
        Group(null, Enumerable.Range(0, featureCount).Select(Leaf).ToArray());

    /// <summary>Two levels: the root holds the given groups, each group holds its features.</summary>
    public static FeatureTree Groups(IEnumerable<IEnumerable<int>> groups) =>
        Group(null, groups.Select(g => Group(null, g.Select(Leaf).ToArray())).ToArray());

    /// <summary>
    /// A balanced tree over consecutive features: the range is split into <paramref name="fanout"/> contiguous parts
    /// until single features remain. Owen values then cost about M²·2^(fanout−1) evaluations in total rather than 2^M,
    /// which makes long inputs affordable while keeping nearby tokens together.
    /// </summary>
    public static FeatureTree Contiguous(int featureCount, int fanout = 2)
    {
        if (fanout < 2) throw new ArgumentOutOfRangeException(nameof(fanout), $"Fanout must be at least 2, got {fanout}.");
        if (featureCount < 1) throw new ArgumentException("A feature tree needs at least one feature.");
        FeatureTree Build(int start, int count)
        {
            if (count == 1) return Leaf(start);
            int parts = Math.Min(fanout, count);
            var children = new FeatureTree[parts];
            int at = start;
            for (int p = 0; p < parts; p++)
            {
                int size = count / parts + (p < count % parts ? 1 : 0);
                children[p] = Build(at, size);
                at += size;
            }
            return Group(null, children);
        }
        return featureCount == 1 ? Group(Leaf(0)) : Build(0, featureCount);
    }

    /// <summary>
    /// Groups word features into sentences: a sentence ends after a feature whose text ends with '.', '!' or '?'.
    /// A single sentence gives a flat tree.
    /// </summary>
    public static FeatureTree BySentences(FeatureSet features)
    {
        var sentences = new List<List<int>>();
        var current = new List<int>();
        for (int i = 0; i < features.Count; i++)
        {
            current.Add(i);
            var t = features[i].Text.TrimEnd();
            if (t.Length > 0 && t[^1] is '.' or '!' or '?') { sentences.Add(current); current = []; }
        }
        if (current.Count > 0) sentences.Add(current);
        return sentences.Count <= 1 ? Flat(features.Count) : Groups(sentences);
    }

    /// <summary>The features under this node, in tree order.</summary>
    public IEnumerable<int> Features() =>
        IsLeaf ? [Feature] : Children.SelectMany(c => c.Features());

    /// <summary>Checks that the leaves are exactly the features 0..M−1, each once.</summary>
    public void Validate(int featureCount)
    {
        var seen = new bool[featureCount];
        foreach (var f in Features())
        {
            if (f >= featureCount)
                throw new ArgumentException($"The feature tree names feature {f}, but there are only {featureCount} features.");
            if (seen[f]) throw new ArgumentException($"Feature {f} appears twice in the feature tree.");
            seen[f] = true;
        }
        int missing = Array.IndexOf(seen, false);
        if (missing >= 0) throw new ArgumentException($"Feature {missing} is missing from the feature tree.");
    }
}
