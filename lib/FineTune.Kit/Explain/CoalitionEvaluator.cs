namespace FineTune.Kit.Explain;

/// <summary>
/// Calls a <see cref="CoalitionValue"/> in batches, evaluates each distinct coalition once and checks every answer,
/// so that the explainers can ask for the same coalition twice without paying twice.
/// </summary>
internal sealed class CoalitionEvaluator
{
    private readonly CoalitionValue _value;
    private readonly int _featureCount;
    private readonly int _batchSize;
    private readonly Dictionary<bool[], double> _cache = new(MaskComparer.Instance);

    private readonly IProgress<ExplainProgress>? _progress;
    private readonly CancellationToken _cancellation;
    private int _calls;

    public CoalitionEvaluator(CoalitionValue value, int featureCount, int batchSize,
        IProgress<ExplainProgress>? progress = null, CancellationToken cancellation = default)
    {
        _progress = progress;
        _cancellation = cancellation;
        ArgumentNullException.ThrowIfNull(value);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"Batch size must be at least 1, got {batchSize}.");
        _value = value;
        _featureCount = featureCount;
        _batchSize = batchSize;
    }

    /// <summary>How many distinct coalitions the value function has been asked about.</summary>
    public int Evaluations => _cache.Count;

    /// <summary>The value of one coalition.</summary>
    public double Evaluate(bool[] coalition) => Evaluate([coalition])[0];

    /// <summary>The values of many coalitions; only the ones not seen before reach the value function.</summary>
    public double[] Evaluate(IReadOnlyList<bool[]> coalitions)
    {
        var pending = new List<bool[]>();
        var queued = new HashSet<bool[]>(MaskComparer.Instance);
        foreach (var c in coalitions)
        {
            if (c.Length != _featureCount)
                throw new ArgumentException($"A coalition has {c.Length} entries but there are {_featureCount} features.");
            if (!_cache.ContainsKey(c) && queued.Add(c)) pending.Add((bool[])c.Clone());
        }
        for (int start = 0; start < pending.Count; start += _batchSize)
        {
            _cancellation.ThrowIfCancellationRequested();
            var batch = pending.GetRange(start, Math.Min(_batchSize, pending.Count - start));
            // hand out copies: a value function that edits its input must not corrupt the cache keys
            var values = _value(batch.Select(m => (bool[])m.Clone()).ToArray());
            if (values is null || values.Length != batch.Count)
                throw new KitException(
                    $"The value function returned {values?.Length ?? 0} values for a batch of {batch.Count} coalitions.");
            for (int i = 0; i < batch.Count; i++)
            {
                if (!double.IsFinite(values[i]))
                    throw new KitException(
                        $"The value function returned {values[i]} for coalition {Describe(batch[i])}; values must be finite.");
                _cache[batch[i]] = values[i];
            }
            _progress?.Report(new ExplainProgress(_cache.Count, ++_calls));
        }
        var result = new double[coalitions.Count];
        for (int i = 0; i < result.Length; i++) result[i] = _cache[coalitions[i]];
        return result;
    }

    /// <summary>A coalition with every feature present or every feature absent.</summary>
    public bool[] Uniform(bool present)
    {
        var m = new bool[_featureCount];
        if (present) Array.Fill(m, true);
        return m;
    }

    internal static string Describe(bool[] mask) =>
        "{" + string.Join(",", Enumerable.Range(0, mask.Length).Where(j => mask[j])) + "}";
}

/// <summary>Structural equality for coalition masks.</summary>
internal sealed class MaskComparer : IEqualityComparer<bool[]>
{
    public static readonly MaskComparer Instance = new();

    public bool Equals(bool[]? x, bool[]? y) =>
        ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

    public int GetHashCode(bool[] mask)
    {
        var h = new HashCode();
        // pack 32 flags per word so long masks hash quickly
        uint word = 0;
        for (int i = 0; i < mask.Length; i++)
        {
            if (mask[i]) word |= 1u << (i & 31);
            if ((i & 31) == 31) { h.Add(word); word = 0; }
        }
        h.Add(word);
        h.Add(mask.Length);
        return h.ToHashCode();
    }
}
