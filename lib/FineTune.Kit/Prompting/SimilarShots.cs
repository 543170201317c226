using FineTune.Kit.Data;

namespace FineTune.Kit.Prompting;

/// <summary>
/// Dynamic few-shot selection: each query gets its nearest pool examples (Liu et al. 2022, "What makes good in-context
/// examples"). A pool example whose text equals the query is skipped, so evaluating on the pool does not leak the answer.
/// </summary>
public sealed class SimilarShots : IFewShotSelector
{
    private readonly IReadOnlyList<LabeledExample> _pool;
    private readonly ISimilarityIndex _index;

    /// <summary>Selects from <paramref name="pool"/> using an index built over the same texts in the same order.</summary>
    public SimilarShots(IReadOnlyList<LabeledExample> pool, ISimilarityIndex index)
    {
        if (index.Count != pool.Count) throw new ArgumentException($"the index holds {index.Count} items but the pool {pool.Count}");
        _pool = pool;
        _index = index;
    }

    /// <summary>When true, shots are taken round-robin over labels (the nearest of each label first), so every label is shown when k ≥ labels.</summary>
    public bool BalanceLabels { get; private init; }

    /// <summary>When true (default) the nearest example comes last, right before the query, where it helps most.</summary>
    public bool NearestLast { get; private init; } = true;

    /// <summary>Spreads the shots over the labels instead of taking the k nearest regardless of label.</summary>
    public SimilarShots BalancedLabels() => new(_pool, _index) { BalanceLabels = true, NearestLast = NearestLast };

    /// <summary>Puts the nearest example first instead of last.</summary>
    public SimilarShots NearestFirst() => new(_pool, _index) { BalanceLabels = BalanceLabels, NearestLast = false };

    /// <summary>The selected neighbours, nearest first (before prompt ordering).</summary>
    public IReadOnlyList<Neighbour> Neighbours(string query, int k)
    {
        bool IsQuery(int i) => string.Equals(_pool[i].Text, query, StringComparison.Ordinal);
        if (!BalanceLabels) return _index.Nearest(query, k, IsQuery);

        // round robin over labels: each round offers the next-nearest example of every label, nearest first
        var byLabel = _index.Nearest(query, _pool.Count, IsQuery)
            .GroupBy(n => _pool[n.Index].Label, StringComparer.Ordinal)
            .Select(g => g.ToArray())
            .ToArray();
        var chosen = new List<Neighbour>(k);
        for (var round = 0; chosen.Count < k && byLabel.Any(g => g.Length > round); round++)
            chosen.AddRange(byLabel.Where(g => g.Length > round).Select(g => g[round])
                .OrderByDescending(n => n.Similarity).ThenBy(n => n.Index).Take(k - chosen.Count));
        return chosen.OrderByDescending(n => n.Similarity).ThenBy(n => n.Index).ToArray();
    }

    /// <inheritdoc />
    public IReadOnlyList<LabeledExample> Select(string query, int k)
    {
        var shots = Neighbours(query, k).Select(n => _pool[n.Index]);
        return (NearestLast ? shots.Reverse() : shots).ToArray();
    }
}
