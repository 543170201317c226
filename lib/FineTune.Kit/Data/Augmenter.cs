using System.Text.Json.Nodes;

namespace FineTune.Kit.Data;

/// <summary>
/// Label-preserving text perturbations for small training sets: random word dropout and swaps of neighbouring words.
/// Every new row carries <c>augmented: true</c> (originals are left untouched). Augment the training split only,
/// after splitting: augmented copies of a row in validation or test would leak it into training.
/// </summary>
public sealed class Augmenter(double wordDropout = 0.1, double wordSwap = 0.1, int copies = 1, int seed = Seeds.Default, string column = "text")
{
    /// <summary>Probability of dropping each word.</summary>
    public double WordDropout { get; } = wordDropout is >= 0 and < 1 ? wordDropout : throw new ArgumentException($"word dropout must be in [0, 1), got {wordDropout}");

    /// <summary>Probability, per word position, of swapping it with the next word.</summary>
    public double WordSwap { get; } = wordSwap is >= 0 and <= 1 ? wordSwap : throw new ArgumentException($"word swap must be in [0, 1], got {wordSwap}");

    /// <summary>New rows per original row.</summary>
    public int Copies { get; } = copies >= 0 ? copies : throw new ArgumentException($"copies must be >= 0, got {copies}");

    /// <summary>The original rows followed by their marked perturbations (copies identical to the original are skipped).</summary>
    public Dataset Augment(Dataset data)
    {
        var random = new Random(seed);
        var rows = new List<Example>(data.Rows);
        foreach (var row in data.Rows)
        {
            if (row[column] is not { } text || row.Fields[column] is not JsonValue) continue;
            for (int c = 0; c < Copies; c++)
            {
                var perturbed = Perturb(text, random);
                if (perturbed == text || perturbed.Length == 0) continue;
                rows.Add(row.With(column, perturbed).With("augmented", JsonValue.Create(true)));
            }
        }
        return data.Derive(rows);
    }

    /// <summary>One perturbation of a text: dropout (keeping at least one word), then neighbour swaps.</summary>
    public string Perturb(string text, Random random)
    {
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (words.Count < 2) return text;
        var kept = words.Where(_ => random.NextDouble() >= WordDropout).ToList();
        if (kept.Count == 0) kept.Add(words[random.Next(words.Count)]);
        for (int i = 0; i + 1 < kept.Count; i++)
            if (random.NextDouble() < WordSwap) { (kept[i], kept[i + 1]) = (kept[i + 1], kept[i]); i++; }
        return string.Join(' ', kept);
    }
}
