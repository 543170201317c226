using System.Globalization;

namespace FineTune.Kit.Data.Curation;

/// <summary>
/// Near-duplicate removal over a stream: each row's MinHash signature is looked up in an LSH index of every earlier
/// row, and the row is removed when an earlier row's signature agrees on at least the threshold share of positions.
/// Only signatures (the low 32 bits of each MinHash value: an unrelated pair then agrees by chance at a position with
/// probability 2⁻³², which leaves the estimate unbiased to 10⁻⁹) and the LSH buckets are kept, never rows or shingle
/// sets: about 4 bytes × permutations plus ~32 bytes × bands per row. Earlier rows are indexed whether kept or
/// removed, so a chain of edits (A~B~C) is removed as the in-memory rule removes a cluster.
/// </summary>
public sealed class StreamingNearDuplicates : RowStage
{
    private const int ChunkRows = 1 << 14;
    private readonly NearDuplicateOptions _options;
    private readonly IReadOnlyList<string>? _columns;
    private readonly Shingler _shingler;
    private readonly MinHasher _hasher;
    private readonly LshIndex _index;
    private readonly List<uint[]> _signatures = [];   // chunks of ChunkRows signatures, row-major
    private readonly List<int> _lines = [];
    // rows whose signature equals an earlier row's (exact copies, empty texts) are matched here and never indexed:
    // they would add nothing to the buckets but make each bucket's chain, and every later lookup, longer
    private readonly Dictionary<UInt128, int> _firstWithSignature = [];
    private long _seen, _identical, _candidates;

    /// <summary>Creates an empty index.</summary>
    public StreamingNearDuplicates(NearDuplicateOptions? options = null, IReadOnlyList<string>? columns = null)
    {
        _options = new NearDuplicateDetector(options).Options; // validated
        _columns = columns;
        _shingler = new Shingler(_options.ShingleSize, _options.Unit, _options.TextNormalization);
        _hasher = new MinHasher(_options.Permutations, _options.Seed);
        var (bands, rows) = _options.Banding;
        _index = new LshIndex(bands, rows);
    }

    /// <summary>Rows indexed so far.</summary>
    public int Count => _lines.Count;

    /// <summary>Bytes held by the signatures (the LSH buckets come on top).</summary>
    public long SignatureBytes => (long)_signatures.Count * ChunkRows * _options.Permutations * sizeof(uint);

    /// <inheritdoc/>
    public override (Example? Kept, RowChange? Change) Process(Example row)
    {
        var text = row.Content(_columns);
        var signature = _hasher.Signature(_shingler.Shingles(text));
        _seen++;
        var whole = SignatureHash(signature);
        if (_firstWithSignature.TryGetValue(whole, out var sameLine))
        {
            _identical++;
            return (null, new RowChange(row.Line, ChangeKind.Removed, $"near duplicate of line {sameLine} (Jaccard 1.00, MinHash estimate)", text));
        }
        _firstWithSignature[whole] = row.Line;
        int id = Count;
        int p = _options.Permutations;
        if (id % ChunkRows == 0) _signatures.Add(new uint[ChunkRows * p]);
        var chunk = _signatures[^1].AsSpan(id % ChunkRows * p, p);
        for (int i = 0; i < p; i++) chunk[i] = (uint)signature[i];

        int best = -1, bestAgree = 0;
        _index.Add(signature, other =>
        {
            _candidates++;
            var theirs = _signatures[other / ChunkRows].AsSpan(other % ChunkRows * p, p);
            int agree = 0;
            for (int i = 0; i < p; i++) if (theirs[i] == (uint)signature[i]) agree++;
            if (agree > bestAgree || (agree == bestAgree && other < best)) { best = other; bestAgree = agree; }
        });
        _lines.Add(row.Line);
        double similarity = (double)bestAgree / p;
        if (best < 0 || similarity < _options.Threshold) return (row, null);
        return (null, new RowChange(row.Line, ChangeKind.Removed,
            $"near duplicate of line {_lines[best]} (Jaccard {similarity.ToString("0.00", CultureInfo.InvariantCulture)}, MinHash estimate)", text));
    }

    private static UInt128 SignatureHash(ulong[] signature)
    {
        ulong a = 0x243F6A8885A308D3UL, b = 0x13198A2E03707344UL;
        foreach (var v in signature)
        {
            a = Shingler.Mix(a ^ v);
            b = Shingler.Mix(b + v * 0x9E3779B97F4A7C15UL);
        }
        return new UInt128(a, b);
    }

    /// <inheritdoc/>
    public override IReadOnlyList<string> Notes =>
    [
        $"streamed: texts shingled after normalisation: {_options.TextNormalization.Describe()}; {_options.ShingleSize}-" +
        $"{(_options.Unit == ShingleUnit.Char ? "character" : "word")} shingles, {_options.Permutations} permutations, " +
        $"LSH {_index.Bands}x{_index.Rows}, Jaccard threshold {_options.Threshold.ToString("0.###", CultureInfo.InvariantCulture)} on the MinHash estimate",
        $"{_seen} rows: {Count} indexed, {_identical} with the signature of an earlier row, {SignatureBytes / (1024 * 1024)} MiB of signatures, {_candidates} candidate comparisons",
    ];
}
