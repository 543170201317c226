using System.Globalization;
using System.Text;

namespace FineTune.Kit.Data.Curation;

/// <summary>
/// Drops rows whose normalised text equals that of an earlier row; the first occurrence is kept. The key is NFKC,
/// lower case, white space collapsed, so "Hello  World" and "hello world" are duplicates. Whole keys are compared, so
/// two different texts are never merged by a hash collision.
/// </summary>
public sealed class ExactDuplicateRule(IReadOnlyList<string>? columns = null) : ICurationRule
{
    /// <inheritdoc/>
    public string Name => "drop_exact_duplicates";

    /// <summary>The normalised key two rows must share to count as exact duplicates.</summary>
    public static string Key(string text)
    {
        var s = (text.IsNormalized(NormalizationForm.FormKC) ? text : text.Normalize(NormalizationForm.FormKC)).ToLowerInvariant();
        var sb = new StringBuilder(s.Length);
        bool space = false;
        foreach (var c in s)
        {
            if (char.IsWhiteSpace(c)) { space = sb.Length > 0; continue; }
            if (space) sb.Append(' ');
            space = false;
            sb.Append(c);
        }
        return sb.ToString();
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
            var key = Key(content);
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
        return new RuleOutcome(kept, changes) { Clusters = clusters };
    }
}
