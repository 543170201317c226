using FineTune.Kit.Models;
using static TorchSharp.torch;

namespace FineTune.Kit.Tests.Models;

/// <summary>
/// A deliberately naive forward pass in double precision with plain loops, written from the papers' formulas, to check
/// the tensor implementation against.
/// </summary>
internal static class ReferenceForward
{
    /// <summary>
    /// Logits for every position. <paramref name="cachedPrefix"/> replays a KV cache for length-dependent (dynamic)
    /// RoPE: the first that many positions are rotated as in a pass over just them, the rest as in a pass over all.
    /// </summary>
    public static double[][] Logits(CausalLM model, long[] ids, int? cachedPrefix = null)
    {
        var w = model.Module.named_parameters().ToDictionary(np => np.name, np => Mat(np.parameter));
        var c = model.Config;
        return c.Family == ModelFamily.Gpt2 ? Gpt2(c, w, ids) : Llama(c, w, ids, cachedPrefix ?? 0);
    }

    private sealed record M(double[] D, long[] Shape)
    {
        public double this[long i, long j] => D[i * Shape[1] + j];
        public double this[long i] => D[i];
    }

    private static M Mat(Tensor t) => new(t.detach().to_type(ScalarType.Float64).cpu().data<double>().ToArray(), t.shape);

    // y = W x (+ b) for nn.Linear weights [out, in]
    private static double[] Linear(M wt, double[] x, Dictionary<string, M> w, string biasName)
    {
        var y = new double[wt.Shape[0]];
        for (long o = 0; o < wt.Shape[0]; o++)
        {
            double s = 0;
            for (long i = 0; i < wt.Shape[1]; i++) s += wt[o, i] * x[i];
            y[o] = s + (w.TryGetValue(biasName, out var b) ? b[o] : 0);
        }
        return y;
    }

    // y = x W + b for GPT-2 Conv1D weights [in, out]
    private static double[] Conv(M wt, M b, double[] x)
    {
        var y = new double[wt.Shape[1]];
        for (long o = 0; o < wt.Shape[1]; o++)
        {
            double s = b[o];
            for (long i = 0; i < wt.Shape[0]; i++) s += x[i] * wt[i, o];
            y[o] = s;
        }
        return y;
    }

    private static double[] RmsNorm(double[] x, M g, double eps)
    {
        double ms = x.Sum(v => v * v) / x.Length;
        return x.Select((v, i) => v / Math.Sqrt(ms + eps) * g[i]).ToArray();
    }

    private static double[] LayerNorm(double[] x, M g, M b, double eps)
    {
        double mean = x.Average(), variance = x.Sum(v => (v - mean) * (v - mean)) / x.Length;
        return x.Select((v, i) => (v - mean) / Math.Sqrt(variance + eps) * g[i] + b[i]).ToArray();
    }

    private static double[] Add(double[] a, double[] b) => a.Select((v, i) => v + b[i]).ToArray();

    // causal softmax attention for one head; q, k, v are [T][d]. With a window w, query t sees keys t - w + 1 … t.
    private static double[][] Attention(double[][] q, double[][] k, double[][] v, int? window = null)
    {
        int T = q.Length, d = q[0].Length;
        var o = new double[T][];
        for (int t = 0; t < T; t++)
        {
            int first = window is { } w ? Math.Max(0, t - w + 1) : 0;
            var s = new double[t + 1 - first];
            for (int j = first; j <= t; j++) s[j - first] = q[t].Zip(k[j], (a, b) => a * b).Sum() / Math.Sqrt(d);
            double mx = s.Max();
            var e = s.Select(x => Math.Exp(x - mx)).ToArray();
            double z = e.Sum();
            o[t] = new double[d];
            for (int j = first; j <= t; j++) for (int i = 0; i < d; i++) o[t][i] += e[j - first] / z * v[j][i];
        }
        return o;
    }

    private static double[][] Llama(ModelConfig c, Dictionary<string, M> w, long[] ids, int cachedPrefix)
    {
        int T = ids.Length, D = c.HiddenSize, hd = c.HeadDim;
        int PassLength(int t) => t < cachedPrefix ? cachedPrefix : T;
        var emb = w["model.embed_tokens.weight"];
        var x = ids.Select(id => Enumerable.Range(0, D).Select(i => emb[id, i]).ToArray()).ToArray();
        for (int l = 0; l < c.NumLayers; l++)
        {
            string p = $"model.layers.{l}.";
            var h = x.Select(r => RmsNorm(r, w[p + "input_layernorm.weight"], c.NormEps)).ToArray();
            var q = h.Select(r => Linear(w[p + "self_attn.q_proj.weight"], r, w, p + "self_attn.q_proj.bias")).ToArray();
            var k = h.Select(r => Linear(w[p + "self_attn.k_proj.weight"], r, w, p + "self_attn.k_proj.bias")).ToArray();
            var v = h.Select(r => Linear(w[p + "self_attn.v_proj.weight"], r, w, p + "self_attn.v_proj.bias")).ToArray();
            var heads = new double[T][];
            for (int t = 0; t < T; t++) heads[t] = new double[c.NumHeads * hd];
            for (int head = 0; head < c.NumHeads; head++)
            {
                int kvHead = head / (c.NumHeads / c.NumKvHeads);
                var qh = Enumerable.Range(0, T).Select(t => Rope(q[t].Skip(head * hd).Take(hd).ToArray(), t, c, PassLength(t))).ToArray();
                var kh = Enumerable.Range(0, T).Select(t => Rope(k[t].Skip(kvHead * hd).Take(hd).ToArray(), t, c, PassLength(t))).ToArray();
                var vh = Enumerable.Range(0, T).Select(t => v[t].Skip(kvHead * hd).Take(hd).ToArray()).ToArray();
                var o = Attention(qh, kh, vh, c.LayerWindow(l));
                for (int t = 0; t < T; t++) Array.Copy(o[t], 0, heads[t], head * hd, hd);
            }
            x = x.Select((r, t) => Add(r, Linear(w[p + "self_attn.o_proj.weight"], heads[t], w, p + "self_attn.o_proj.bias"))).ToArray();
            var h2 = x.Select(r => RmsNorm(r, w[p + "post_attention_layernorm.weight"], c.NormEps)).ToArray();
            x = x.Select((r, t) =>
            {
                var g = Linear(w[p + "mlp.gate_proj.weight"], h2[t], w, "-");
                var u = Linear(w[p + "mlp.up_proj.weight"], h2[t], w, "-");
                var a = g.Select((gv, i) => gv / (1 + Math.Exp(-gv)) * u[i]).ToArray();
                return Add(r, Linear(w[p + "mlp.down_proj.weight"], a, w, "-"));
            }).ToArray();
        }
        var head2 = w.TryGetValue("lm_head.weight", out var lm) ? lm : emb;
        return x.Select(r => Linear(head2, RmsNorm(r, w["model.norm.weight"], c.NormEps), w, "-")).ToArray();
    }

    // rotate-half RoPE: pairs (i, i + d/2) rotate by angle pos / theta^(2i/d), changed by the config's scaling
    private static double[] Rope(double[] x, int pos, ModelConfig c, int T)
    {
        int d = x.Length, half = d / 2;
        var y = new double[d];
        for (int i = 0; i < half; i++)
        {
            double angle = Angle(c, pos, i, d, T);
            y[i] = x[i] * Math.Cos(angle) - x[i + half] * Math.Sin(angle);
            y[i + half] = x[i + half] * Math.Cos(angle) + x[i] * Math.Sin(angle);
        }
        return y;
    }

    // The scaled RoPE variants, written from their descriptions: linear interpolates positions (pos / factor); dynamic
    // NTK raises the base once the sequence (T tokens) outgrows max_position_embeddings; llama3 leaves wavelengths
    // shorter than original / high_freq_factor alone, interpolates those longer than original / low_freq_factor, and
    // blends linearly in original / wavelength between.
    private static double Angle(ModelConfig c, int pos, int i, int d, int T)
    {
        var s = c.RopeScaling;
        double theta = c.RopeTheta;
        if (s?.Type == "linear") return pos / s.Factor / Math.Pow(theta, 2.0 * i / d);
        if (s?.Type == "dynamic" && T > c.MaxPositions)
            theta *= Math.Pow(s.Factor * T / c.MaxPositions - s.Factor + 1, d / (d - 2.0));
        double freq = Math.Pow(theta, -2.0 * i / d);
        if (s?.Type == "llama3")
        {
            double original = s.OriginalMaxPositions!.Value, low = s.LowFreqFactor!.Value, high = s.HighFreqFactor!.Value;
            double wavelength = 2 * Math.PI / freq, ratio = original / wavelength;   // periods within the original context
            double keep = ratio >= high ? 1 : ratio <= low ? 0 : (ratio - low) / (high - low);
            freq = keep * freq + (1 - keep) * freq / s.Factor;
        }
        return pos * freq;
    }

    private static double[][] Gpt2(ModelConfig c, Dictionary<string, M> w, long[] ids)
    {
        int T = ids.Length, D = c.HiddenSize, hd = c.HeadDim;
        var wte = w["transformer.wte.weight"];
        var wpe = w["transformer.wpe.weight"];
        var x = ids.Select((id, t) => Enumerable.Range(0, D).Select(i => wte[id, i] + wpe[t, i]).ToArray()).ToArray();
        for (int l = 0; l < c.NumLayers; l++)
        {
            string p = $"transformer.h.{l}.";
            var h = x.Select(r => LayerNorm(r, w[p + "ln_1.weight"], w[p + "ln_1.bias"], c.NormEps)).ToArray();
            var qkv = h.Select(r => Conv(w[p + "attn.c_attn.weight"], w[p + "attn.c_attn.bias"], r)).ToArray();
            var heads = new double[T][];
            for (int t = 0; t < T; t++) heads[t] = new double[D];
            for (int head = 0; head < c.NumHeads; head++)
            {
                var qh = qkv.Select(r => r.Skip(head * hd).Take(hd).ToArray()).ToArray();
                var kh = qkv.Select(r => r.Skip(D + head * hd).Take(hd).ToArray()).ToArray();
                var vh = qkv.Select(r => r.Skip(2 * D + head * hd).Take(hd).ToArray()).ToArray();
                var o = Attention(qh, kh, vh);
                for (int t = 0; t < T; t++) Array.Copy(o[t], 0, heads[t], head * hd, hd);
            }
            x = x.Select((r, t) => Add(r, Conv(w[p + "attn.c_proj.weight"], w[p + "attn.c_proj.bias"], heads[t]))).ToArray();
            x = x.Select(r =>
            {
                var h2 = LayerNorm(r, w[p + "ln_2.weight"], w[p + "ln_2.bias"], c.NormEps);
                var a = Conv(w[p + "mlp.c_fc.weight"], w[p + "mlp.c_fc.bias"], h2)
                    .Select(u => 0.5 * u * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (u + 0.044715 * u * u * u)))).ToArray();
                return Add(r, Conv(w[p + "mlp.c_proj.weight"], w[p + "mlp.c_proj.bias"], a));
            }).ToArray();
        }
        return x.Select(r => Linear(wte, LayerNorm(r, w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], c.NormEps), w, "-")).ToArray();
    }
}
