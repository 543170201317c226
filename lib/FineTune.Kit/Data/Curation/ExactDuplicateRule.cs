namespace FineTune.Kit.Data.Curation;

/// <summary>
/// Drops rows whose normalised text (<see cref="TextNormalization"/>; by default lower case, punctuation removed,
/// white space collapsed) equals that of an earlier row; the first occurrence is kept. Whole keys are compared
/// (through a hash table), so two different texts are never merged by a hash collision. Streaming (<see cref="Begin"/>)
/// keeps a 128-bit hash of each distinct text instead of the text (a false merge needs a 128-bit collision: about
/// n²/2¹²⁹, 10⁻²⁷ for a million rows).
/// </summary>
public sealed class ExactDuplicateRule(IReadOnlyList<string>? columns = null, TextNormalization? normalization = null) : IStreamingCurationRule
{
    /// <summary>How texts are normalised before they are compared.</summary>
    public TextNormalization Normalization { get; } = normalization ?? TextNormalization.Default;

    /// <inheritdoc/>
    public string Name => "drop_exact_duplicates";

    /// <inheritdoc/>
    public RowStage Begin()
    {
        var first = new Dictionary<UInt128, int>();
        return new FuncRowStage(row =>
        {
            var content = row.Content(columns);
            var key = Hash128(Normalization.Apply(content));
            if (first.TryGetValue(key, out var keptLine))
                return (null, new RowChange(row.Line, ChangeKind.Removed, $"exact duplicate of line {keptLine}", content));
            first[key] = row.Line;
            return (row, null);
        });
    }

    private static UInt128 Hash128(string text)
    {
        Span<byte> digest = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(text.AsSpan()), digest);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(digest);
    }

    /// <inheritdoc/>
    public RuleOutcome Apply(IReadOnlyList<Example> rows)
    {
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        var removedByKept = new Dictionary<int, List<int>>();
        var kept = new List<Example>(rows.Count);
        var changes = new List<RowChange>();
        foreach (var row in rows)
        {
            var content = row.Content(columns);
            var key = Normalization.Apply(content);
            if (first.TryGetValue(key, out var keptLine))
            {
                changes.Add(new RowChange(row.Line, ChangeKind.Removed, $"exact duplicate of line {keptLine}", content));
                if (!removedByKept.TryGetValue(keptLine, out var list)) removedByKept[keptLine] = list = [];
                list.Add(row.Line);
                continue;
            }
            first[key] = row.Line;
            kept.Add(row);
        }
        var clusters = removedByKept.Select(kv => new DuplicateCluster("exact", kv.Key, kv.Value)).ToList();
        return new RuleOutcome(kept, changes) { Clusters = clusters, Notes = [$"texts compared after normalisation: {Normalization.Describe()}"] };
    }
}
