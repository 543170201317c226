using FineTune.Kit.Models;
using FineTune.Kit.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FineTune.Kit.Preferences;

/// <summary>
/// Per-token log-probabilities of response tokens given their prompt, from one batched forward pass. The output head
/// runs only at the positions that predict a response token, so the prompt costs attention but no vocabulary projection.
/// </summary>
public sealed class ResponseLogProbs : IDisposable
{
    /// <summary>log π(token | prefix) of every response token, rows one after another [tokens].</summary>
    public required Tensor Tokens { get; init; }
    /// <summary>Which sequence each entry of <see cref="Tokens"/> belongs to [tokens].</summary>
    public required Tensor Rows { get; init; }
    /// <summary>Entropy of the next-token distribution at each response position [tokens] (no gradient).</summary>
    public required Tensor Entropy { get; init; }
    /// <summary>Number of sequences.</summary>
    public required int Count { get; init; }

    /// <summary>Log-probabilities summed over each sequence's response tokens [sequences].</summary>
    public Tensor Summed() => zeros(Count, dtype: Tokens.dtype, device: Tokens.device).index_add(0, Rows, Tokens, 1);

    /// <summary>Response tokens per sequence [sequences].</summary>
    public Tensor Lengths() => zeros(Count, dtype: Tokens.dtype, device: Tokens.device).index_add(0, Rows, ones_like(Tokens), 1);

    /// <summary>
    /// Runs <paramref name="model"/> (with gradients unless the caller turned them off) on prompt + response sequences.
    /// A response must have at least one token.
    /// </summary>
    public static ResponseLogProbs Compute(CausalLM model, IReadOnlyList<(long[] Prompt, long[] Response)> sequences)
    {
        if (sequences.Count == 0) throw new ArgumentException("No sequences to score.");
        for (int i = 0; i < sequences.Count; i++)
        {
            if (sequences[i].Prompt.Length == 0) throw new ArgumentException($"Sequence {i}: the prompt has no tokens (the first response token needs a prefix to be predicted from).");
            if (sequences[i].Response.Length == 0) throw new ArgumentException($"Sequence {i}: the response has no tokens.");
        }
        var examples = sequences.Select(s => TokenizedExample.PromptCompletion(s.Prompt, s.Response)).ToList();
        using var batch = TrainingBatch.Collate(examples, model.Config.PadTokenId ?? 0, model.Device);
        var labelled = batch.Labels.ne(TrainingBatch.Ignore);
        using var output = model.Module.Forward(batch.Ids, batch.Mask, logitPositions: labelled);
        var logp = F.log_softmax(output.Logits.to_type(ScalarType.Float32), -1);
        var targets = batch.Labels[labelled];
        var tokens = logp.gather(1, targets.unsqueeze(1)).squeeze(1);
        Tensor entropy;
        using (no_grad()) entropy = -(logp.exp() * logp).sum(-1);
        var rows = arange(examples.Count, dtype: ScalarType.Int64, device: model.Device).unsqueeze(1).expand(batch.Ids.shape)[labelled];
        return new ResponseLogProbs { Tokens = tokens, Rows = rows, Entropy = entropy, Count = examples.Count };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Tokens.Dispose();
        Rows.Dispose();
        Entropy.Dispose();
    }
}
