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
        return c.Family switch
        {
            ModelFamily.Gpt2 => Gpt2(c, w, ids),
            ModelFamily.Gemma => Gemma(c, w, ids),
            _ => Llama(c, w, ids, cachedPrefix ?? 0),
        };
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

    // Gemma's norm: the gain is 1 + weight
    private static double[] GemmaNorm(double[] x, M g, double eps)
    {
        double ms = x.Sum(v => v * v) / x.Length;
        return x.Select((v, i) => v / Math.Sqrt(ms + eps) * (1 + g[i])).ToArray();
    }

    private static double GeluTanh(double u) => 0.5 * u * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (u + 0.044715 * u * u * u)));

    private static double[] LayerNorm(double[] x, M g, M b, double eps)
    {
        double mean = x.Average(), variance = x.Sum(v => (v - mean) * (v - mean)) / x.Length;
        return x.Select((v, i) => (v - mean) / Math.Sqrt(variance + eps) * g[i] + b[i]).ToArray();
    }

    private static double[] Add(double[] a, double[] b) => a.Select((v, i) => v + b[i]).ToArray();

    // causal softmax attention for one head; q, k, v are [T][d]. With a window w, query t sees keys t - w + 1 … t.
    // Scores are q·k · scale (default 1/√d), soft-capped to cap · tanh(score / cap) when a cap is given.
    private static double[][] Attention(double[][] q, double[][] k, double[][] v, int? window = null, double? scale = null, double? softcap = null)
    {
        int T = q.Length, d = q[0].Length;
        var o = new double[T][];
        for (int t = 0; t < T; t++)
        {
            int first = window is { } w ? Math.Max(0, t - w + 1) : 0;
            var s = new double[t + 1 - first];
            for (int j = first; j <= t; j++)
            {
                double score = q[t].Zip(k[j], (a, b) => a * b).Sum() * (scale ?? 1 / Math.Sqrt(d));
                s[j - first] = softcap is { } cap ? cap * Math.Tanh(score / cap) : score;
            }
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
        bool phi3 = c.ModelType == "phi3";
        for (int l = 0; l < c.NumLayers; l++)
        {
            string p = $"model.layers.{l}.";
            var h = x.Select(r => RmsNorm(r, w[p + "input_layernorm.weight"], c.NormEps)).ToArray();
            double[][] q, k, v;
            if (phi3)
            {
                // one fused projection: [q | k | v] along its outputs
                var qkv = h.Select(r => Linear(w[p + "self_attn.qkv_proj.weight"], r, w, "-")).ToArray();
                int qw = c.NumHeads * hd, kw = c.NumKvHeads * hd;
                q = qkv.Select(r => r.Take(qw).ToArray()).ToArray();
                k = qkv.Select(r => r.Skip(qw).Take(kw).ToArray()).ToArray();
                v = qkv.Select(r => r.Skip(qw + kw).ToArray()).ToArray();
            }
            else
            {
                q = h.Select(r => Linear(w[p + "self_attn.q_proj.weight"], r, w, p + "self_attn.q_proj.bias")).ToArray();
                k = h.Select(r => Linear(w[p + "self_attn.k_proj.weight"], r, w, p + "self_attn.k_proj.bias")).ToArray();
                v = h.Select(r => Linear(w[p + "self_attn.v_proj.weight"], r, w, p + "self_attn.v_proj.bias")).ToArray();
            }
            // Qwen3 normalises each query and key head (RMSNorm over head_dim) before the rotation
            double[] QNorm(double[] r) => w.TryGetValue(p + "self_attn.q_norm.weight", out var g) ? RmsNorm(r, g, c.NormEps) : r;
            double[] KNorm(double[] r) => w.TryGetValue(p + "self_attn.k_norm.weight", out var g) ? RmsNorm(r, g, c.NormEps) : r;
            var heads = new double[T][];
            for (int t = 0; t < T; t++) heads[t] = new double[c.NumHeads * hd];
            for (int head = 0; head < c.NumHeads; head++)
            {
                int kvHead = head / (c.NumHeads / c.NumKvHeads);
                var qh = Enumerable.Range(0, T).Select(t => Rope(QNorm(q[t].Skip(head * hd).Take(hd).ToArray()), t, c, PassLength(t))).ToArray();
                var kh = Enumerable.Range(0, T).Select(t => Rope(KNorm(k[t].Skip(kvHead * hd).Take(hd).ToArray()), t, c, PassLength(t))).ToArray();
                var vh = Enumerable.Range(0, T).Select(t => v[t].Skip(kvHead * hd).Take(hd).ToArray()).ToArray();
                var o = Attention(qh, kh, vh, c.LayerWindow(l));
                for (int t = 0; t < T; t++) Array.Copy(o[t], 0, heads[t], head * hd, hd);
            }
            x = x.Select((r, t) => Add(r, Linear(w[p + "self_attn.o_proj.weight"], heads[t], w, p + "self_attn.o_proj.bias"))).ToArray();
            var h2 = x.Select(r => RmsNorm(r, w[p + "post_attention_layernorm.weight"], c.NormEps)).ToArray();
            x = x.Select((r, t) =>
            {
                double[] g, u;
                if (phi3)
                {
                    // one fused projection: [gate | up]
                    var gu = Linear(w[p + "mlp.gate_up_proj.weight"], h2[t], w, "-");
                    g = gu.Take(c.IntermediateSize).ToArray();
                    u = gu.Skip(c.IntermediateSize).ToArray();
                }
                else
                {
                    g = Linear(w[p + "mlp.gate_proj.weight"], h2[t], w, "-");
                    u = Linear(w[p + "mlp.up_proj.weight"], h2[t], w, "-");
                }
                var a = g.Select((gv, i) => gv / (1 + Math.Exp(-gv)) * u[i]).ToArray();
                return Add(r, Linear(w[p + "mlp.down_proj.weight"], a, w, "-"));
            }).ToArray();
        }
        var head2 = w.TryGetValue("lm_head.weight", out var lm) ? lm : emb;
        return x.Select(r => Linear(head2, RmsNorm(r, w["model.norm.weight"], c.NormEps), w, "-")).ToArray();
    }

    // rotate-half RoPE: pairs (i, i + d/2) rotate by angle pos / theta^(2i/d), changed by the config's scaling. With a
    // partial rotary factor only the first d = int(head_dim · factor) channels rotate (d in the angle too); the rest
    // pass through. Gemma 3's sliding layers rotate with their own base and no scaling (local).
    private static double[] Rope(double[] x, int pos, ModelConfig c, int T, bool local = false)
    {
        int d = (int)(x.Length * c.PartialRotaryFactor), half = d / 2;
        var y = (double[])x.Clone();
        for (int i = 0; i < half; i++)
        {
            double angle = local ? pos / Math.Pow(c.LocalRopeTheta!.Value, 2.0 * i / d) : Angle(c, pos, i, d, T);
            double m = local ? 1 : Magnitude(c);
            y[i] = m * (x[i] * Math.Cos(angle) - x[i + half] * Math.Sin(angle));
            y[i + half] = m * (x[i + half] * Math.Cos(angle) + x[i] * Math.Sin(angle));
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
        if (s?.Type == "longrope")
        {
            // each pair's wavelength stretched by its factor: the short list while the sequence fits the original context
            var stretch = T > s.OriginalMaxPositions!.Value ? s.LongFactor! : s.ShortFactor!;
            return pos / (stretch[i] * Math.Pow(theta, 2.0 * i / d));
        }
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

    // longrope multiplies the rotated channels by its attention factor: given, or √(1 + ln factor / ln original)
    private static double Magnitude(ModelConfig c) => c.RopeScaling is { Type: "longrope" } s
        ? s.AttentionFactor ?? (s.Factor > 1 ? Math.Sqrt(1 + Math.Log(s.Factor) / Math.Log(s.OriginalMaxPositions!.Value)) : 1)
        : 1;

    // Gemma 2 / 3: embeddings times √hidden; a norm on each side of both sublayers, all with gain (1 + weight);
    // GeGLU (tanh gelu); attention scores scaled by query_pre_attn_scalar^-½ and optionally soft-capped; sliding layers
    // see a window and (Gemma 3) rotate with the local base; logits optionally soft-capped.
    private static double[][] Gemma(ModelConfig c, Dictionary<string, M> w, long[] ids)
    {
        int T = ids.Length, D = c.HiddenSize, hd = c.HeadDim;
        var emb = w["model.embed_tokens.weight"];
        double scale = Math.Sqrt(D);
        var x = ids.Select(id => Enumerable.Range(0, D).Select(i => emb[id, i] * scale).ToArray()).ToArray();
        double attentionScale = 1 / Math.Sqrt(JsonQueryScalar(c));
        for (int l = 0; l < c.NumLayers; l++)
        {
            string p = $"model.layers.{l}.";
            bool sliding = c.WindowedLayers![l];
            bool local = sliding && c.LocalRopeTheta is not null;
            var h = x.Select(r => GemmaNorm(r, w[p + "input_layernorm.weight"], c.NormEps)).ToArray();
            var q = h.Select(r => Linear(w[p + "self_attn.q_proj.weight"], r, w, p + "self_attn.q_proj.bias")).ToArray();
            var k = h.Select(r => Linear(w[p + "self_attn.k_proj.weight"], r, w, p + "self_attn.k_proj.bias")).ToArray();
            var v = h.Select(r => Linear(w[p + "self_attn.v_proj.weight"], r, w, p + "self_attn.v_proj.bias")).ToArray();
            double[] QNorm(double[] r) => w.TryGetValue(p + "self_attn.q_norm.weight", out var g) ? GemmaNorm(r, g, c.NormEps) : r;
            double[] KNorm(double[] r) => w.TryGetValue(p + "self_attn.k_norm.weight", out var g) ? GemmaNorm(r, g, c.NormEps) : r;
            var heads = new double[T][];
            for (int t = 0; t < T; t++) heads[t] = new double[c.NumHeads * hd];
            for (int head = 0; head < c.NumHeads; head++)
            {
                int kvHead = head / (c.NumHeads / c.NumKvHeads);
                var qh = Enumerable.Range(0, T).Select(t => Rope(QNorm(q[t].Skip(head * hd).Take(hd).ToArray()), t, c, T, local)).ToArray();
                var kh = Enumerable.Range(0, T).Select(t => Rope(KNorm(k[t].Skip(kvHead * hd).Take(hd).ToArray()), t, c, T, local)).ToArray();
                var vh = Enumerable.Range(0, T).Select(t => v[t].Skip(kvHead * hd).Take(hd).ToArray()).ToArray();
                var o = Attention(qh, kh, vh, sliding ? c.SlidingWindow : null, attentionScale, c.AttentionSoftcap);
                for (int t = 0; t < T; t++) Array.Copy(o[t], 0, heads[t], head * hd, hd);
            }
            x = x.Select((r, t) => Add(r, GemmaNorm(Linear(w[p + "self_attn.o_proj.weight"], heads[t], w, p + "self_attn.o_proj.bias"),
                w[p + "post_attention_layernorm.weight"], c.NormEps))).ToArray();
            x = x.Select(r =>
            {
                var h2 = GemmaNorm(r, w[p + "pre_feedforward_layernorm.weight"], c.NormEps);
                var g = Linear(w[p + "mlp.gate_proj.weight"], h2, w, "-");
                var u = Linear(w[p + "mlp.up_proj.weight"], h2, w, "-");
                var a = g.Select((gv, i) => GeluTanh(gv) * u[i]).ToArray();
                return Add(r, GemmaNorm(Linear(w[p + "mlp.down_proj.weight"], a, w, "-"), w[p + "post_feedforward_layernorm.weight"], c.NormEps));
            }).ToArray();
        }
        var headWeights = w.TryGetValue("lm_head.weight", out var lm) ? lm : emb;
        return x.Select(r => Linear(headWeights, GemmaNorm(r, w["model.norm.weight"], c.NormEps), w, "-")
            .Select(z => c.FinalLogitSoftcap is { } cap ? cap * Math.Tanh(z / cap) : z).ToArray()).ToArray();
    }

    // query_pre_attn_scalar as config.json states it (transformers' default 256)
    private static double JsonQueryScalar(ModelConfig c) =>
        c.Raw["query_pre_attn_scalar"] is System.Text.Json.Nodes.JsonValue v
            ? v.TryGetValue<double>(out var d) ? d : v.GetValue<int>()
            : 256;

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
