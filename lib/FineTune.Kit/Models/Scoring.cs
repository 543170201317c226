using FineTune.Kit.Text;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FineTune.Kit.Models;

public sealed partial class CausalLM
{
    /// <summary>
    /// Log-likelihood (natural log) of each continuation after the prompt, summed over its tokens, or averaged per token
    /// with <paramref name="perToken"/>. The prompt is read once; every continuation then continues from a copy of its
    /// keys and values, so scoring k labels costs one prompt pass plus k short ones.
    /// </summary>
    public double[] ContinuationLogProbs(string prompt, IReadOnlyList<string> continuations, bool perToken = false)
    {
        var tok = RequireTokenizer();
        var promptIds = tok.Encode(prompt).Select(i => (long)i).ToArray();
        var contIds = continuations.Select(c => tok.Encode(c).Select(i => (long)i).ToArray()).ToList();
        return ContinuationLogProbs(promptIds, contIds, perToken);
    }

    /// <summary>The token-id form of <see cref="ContinuationLogProbs(string, IReadOnlyList{string}, bool)"/>.</summary>
    public double[] ContinuationLogProbs(long[] promptIds, IReadOnlyList<long[]> continuations, bool perToken = false)
    {
        if (promptIds.Length == 0) throw new ArgumentException("The prompt encodes to no tokens.");
        if (continuations.Any(c => c.Length == 0)) throw new ArgumentException("A continuation encodes to no tokens.");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        bool wasTraining = Module.training;
        Module.eval();
        int k = continuations.Count, maxLen = continuations.Max(c => c.Length), P = promptIds.Length;
        using var cache = new KvCache(Config.NumLayers);
        // the prompt once: its last position predicts every continuation's first token
        var lastOnly = zeros(1, P, dtype: ScalarType.Bool, device: Device);
        lastOnly[0, P - 1] = tensor(true);
        using var promptOut = Module.Forward(tensor(promptIds, device: Device).unsqueeze(0), null, cache, logitPositions: lastOnly);
        var first = F.log_softmax(promptOut.Logits[0].to_type(ScalarType.Float32), -1).cpu();
        // then all continuations at once, each row continuing from a copy of the prompt's keys and values
        cache.Select(zeros(k, dtype: ScalarType.Int64, device: Device));
        var ids = new long[k, maxLen];
        var mask = new long[k, P + maxLen];
        for (int r = 0; r < k; r++)
        {
            for (int t = 0; t < P; t++) mask[r, t] = 1;
            for (int t = 0; t < continuations[r].Length; t++) { ids[r, t] = continuations[r][t]; mask[r, P + t] = 1; }
        }
        using var contOut = Module.Forward(tensor(ids, device: Device), tensor(mask, device: Device), cache);
        var rest = F.log_softmax(contOut.Logits.to_type(ScalarType.Float32), -1).cpu();
        Module.train(wasTraining);
        var result = new double[k];
        for (int r = 0; r < k; r++)
        {
            var c = continuations[r];
            double sum = first[c[0]].item<float>();
            for (int t = 1; t < c.Length; t++) sum += rest[r, t - 1, c[t]].item<float>();
            result[r] = perToken ? sum / c.Length : sum;
        }
        return result;
    }

    /// <summary>Generates text after a prompt and returns only the new text.</summary>
    public string Generate(string prompt, GenerationOptions? options = null) => GenerateText(prompt, options).Text;

    /// <summary>
    /// Generates text after a prompt: the new text, why generation ended (a stop token, the token limit, or the
    /// model's context), and the token counts. A prompt longer than the context is refused.
    /// </summary>
    public GeneratedText GenerateText(string prompt, GenerationOptions? options = null)
    {
        var tok = RequireTokenizer();
        var ids = tok.Encode(prompt).Select(i => (long)i).ToArray();
        var generated = GenerateWithReasons([ids], options)[0];
        return new GeneratedText(tok.Decode(generated.Tokens.Select(i => (int)i), skipSpecialTokens: true), generated.Reason,
            ids.Length, generated.Tokens.Length);
    }

    /// <summary>Mean-pooled final hidden states of texts (for similarity search over examples).</summary>
    public float[][] Embed(IReadOnlyList<string> texts, int batchSize = 16)
    {
        var tok = RequireTokenizer();
        var result = new List<float[]>();
        using var _ = no_grad();
        foreach (var chunk in texts.Chunk(batchSize))
        {
            using var scope = NewDisposeScope();
            var encoded = chunk.Select(t => tok.Encode(t).Take(Config.MaxPositions).Select(i => (long)i).DefaultIfEmpty(0).ToArray()).ToList();
            int T = encoded.Max(e => e.Length);
            var ids = new long[chunk.Length, T];
            var mask = new long[chunk.Length, T];
            for (int r = 0; r < chunk.Length; r++)
                for (int t = 0; t < encoded[r].Length; t++) { ids[r, t] = encoded[r][t]; mask[r, t] = 1; }
            var m = tensor(mask, device: Device);
            using var output = Module.Forward(tensor(ids, device: Device), m, outputHiddenStates: true);
            var h = output.HiddenStates![^1];
            var mf = m.unsqueeze(-1).to_type(h.dtype);
            var pooled = (h * mf).sum(1) / mf.sum(1);
            var flat = pooled.to_type(ScalarType.Float32).cpu().data<float>().ToArray();
            int d = (int)pooled.shape[1];
            for (int r = 0; r < chunk.Length; r++) result.Add(flat.AsSpan(r * d, d).ToArray());
        }
        return result.ToArray();
    }
}
