using static TorchSharp.torch;

namespace FineTune.Kit.Training;

/// <summary>
/// One training sequence: token ids and, per position, whether predicting that token counts in the loss
/// (false for prompt tokens in supervised fine-tuning, true everywhere for plain language modelling).
/// </summary>
public sealed record TokenizedExample(long[] Ids, bool[] Loss)
{
    /// <summary>A sequence whose every token counts (continued pre-training).</summary>
    public static TokenizedExample AllTokens(long[] ids) => new(ids, Enumerable.Repeat(true, ids.Length).ToArray());

    /// <summary>Prompt then completion; only the completion's tokens count.</summary>
    public static TokenizedExample PromptCompletion(long[] prompt, long[] completion) =>
        new([.. prompt, .. completion], [.. Enumerable.Repeat(false, prompt.Length), .. Enumerable.Repeat(true, completion.Length)]);

    /// <summary>
    /// For several examples packed into one sequence: the example each token belongs to, numbered 1, 2, … along the
    /// sequence. Attention does not cross from one to another, and positions restart in each. Null: one example.
    /// </summary>
    public int[]? Segments { get; init; }

    /// <summary>Number of tokens that count in the loss (the first token is never predicted).</summary>
    public int LossTokens => Loss.Skip(1).Count(b => b);

    /// <summary>Cuts the sequence to at most <paramref name="maxLength"/> tokens (keeping the start).</summary>
    public TokenizedExample Truncate(int maxLength) =>
        Ids.Length <= maxLength ? this : new(Ids[..maxLength], Loss[..maxLength]) { Segments = Segments?[..maxLength] };
}

/// <summary>A padded batch: ids, attention mask and labels (−100 where no loss is taken), all [batch, time].</summary>
public sealed class TrainingBatch : IDisposable
{
    /// <summary>Label value ignored by the loss.</summary>
    public const long Ignore = -100;

    /// <summary>Token ids, right-padded.</summary>
    public required Tensor Ids { get; init; }
    /// <summary>1 for real tokens, 0 for padding; for packed examples the segment number (1, 2, …) of each real token.</summary>
    public required Tensor Mask { get; init; }
    /// <summary>Next-token targets aligned with <see cref="Ids"/>: labels[t] is predicted from ids[..t]; −100 to skip.</summary>
    public required Tensor Labels { get; init; }
    /// <summary>Tokens that count in the loss.</summary>
    public required long LossTokens { get; init; }
    /// <summary>Real (non-padding) tokens.</summary>
    public required long RealTokens { get; init; }

    /// <summary>Pads and stacks examples. Labels are already shifted: position t holds the token at t+1.</summary>
    public static TrainingBatch Collate(IReadOnlyList<TokenizedExample> examples, long padId, Device device)
    {
        int b = examples.Count, T = examples.Max(e => e.Ids.Length);
        var ids = new long[b, T];
        var mask = new long[b, T];
        var labels = new long[b, T];
        long lossTokens = 0, real = 0;
        for (int i = 0; i < b; i++)
        {
            var e = examples[i];
            for (int t = 0; t < T; t++)
            {
                bool inside = t < e.Ids.Length;
                ids[i, t] = inside ? e.Ids[t] : padId;
                mask[i, t] = !inside ? 0 : e.Segments is { } segments ? segments[t] : 1;
                bool counts = t + 1 < e.Ids.Length && e.Loss[t + 1];
                labels[i, t] = counts ? e.Ids[t + 1] : Ignore;
                if (counts) lossTokens++;
                if (inside) real++;
            }
        }
        return new TrainingBatch
        {
            Ids = tensor(ids, device: device), Mask = tensor(mask, device: device), Labels = tensor(labels, device: device),
            LossTokens = lossTokens, RealTokens = real,
        };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Ids.Dispose();
        Mask.Dispose();
        Labels.Dispose();
    }
}
