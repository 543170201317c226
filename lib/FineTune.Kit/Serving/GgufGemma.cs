using FineTune.Kit.Models;

namespace FineTune.Kit.Serving;

/// <summary>
/// What llama.cpp's <c>gemma2</c> and <c>gemma3</c> architectures run, and the configs of the kit's Gemma that they
/// would run differently. llama.cpp fixes some choices itself rather than reading them from the file: the query
/// scale (1/√head_dim, or 1/√(hidden/heads) for the 27B sizes it recognises by layer count), soft-capping (always on
/// for gemma2, never for gemma3) and gemma2's alternation of sliding and global layers; those are checked here.
/// Gemma 3's layer pattern and local RoPE base are written to the file: current llama.cpp reads them, older builds
/// assumed 6 and 10,000 (the published checkpoints' values), so only such files run alike everywhere.
/// </summary>
internal static class GgufGemma
{
    /// <summary>Refuses a Gemma config llama.cpp would run differently, naming the setting.</summary>
    public static void Check(ModelConfig c, string source)
    {
        bool gemma3 = c.ModelType == "gemma3_text";
        string arch = gemma3 ? "gemma3" : "gemma2";
        // ggml's GELU is the tanh approximation
        if (c.HiddenAct is not ("gelu_pytorch_tanh" or "gelu_new"))
            throw new GgufExportException($"{source}: hidden_activation \"{c.HiddenAct}\" is not what llama.cpp's {arch} runs (gelu_pytorch_tanh).");
        if (c.RopeScaling is { } s && s.Type != "default")
            throw new GgufExportException($"{source}: rope_scaling type \"{s.Type}\" is not exported; llama.cpp would rotate positions differently.");
        if (c.QkvBias || c.OutputBias)
            throw new GgufExportException($"{source}: attention_bias is not exported for the {arch} architecture (llama.cpp loads no attention biases for it).");
        if (!gemma3 && !c.TieWordEmbeddings)
            throw new GgufExportException($"{source}: llama.cpp's gemma2 always reads the output head from the embeddings; an untied lm_head is not exported.");

        double scalar = 1 / (c.AttentionScale!.Value * c.AttentionScale.Value);
        int expected = QueryScalar(c);
        if (Math.Abs(scalar - expected) > 1e-6 * expected)
            throw new GgufExportException($"{source}: query_pre_attn_scalar {scalar:G6} is not what llama.cpp's {arch} scales queries by for this shape ({expected}: head_dim, or hidden_size / num_attention_heads for the {BigLayers(c)}-layer 27B).");

        if (gemma3)
        {
            if (c.AttentionSoftcap is { } a)
                throw new GgufExportException($"{source}: attn_logit_softcapping {a} is set, but llama.cpp's gemma3 does not soft-cap attention scores.");
            if (c.FinalLogitSoftcap is { } f)
                throw new GgufExportException($"{source}: final_logit_softcapping {f} is set, but llama.cpp's gemma3 does not soft-cap logits.");
        }
        else if (c.AttentionSoftcap is null || c.FinalLogitSoftcap is null)
            throw new GgufExportException($"{source}: llama.cpp's gemma2 always soft-caps attention scores and logits; a config with attn_logit_softcapping or final_logit_softcapping null is not exported.");

        int period = SlidingPeriod(c, source, arch);
        if (!gemma3 && period != 2)
            throw new GgufExportException($"{source}: layer_types make one layer in every {period} global; llama.cpp's gemma2 makes every second layer global.");
    }

    /// <summary>The Gemma keys beyond the common ones: window, layer pattern, the sliding layers' RoPE base, soft-caps.</summary>
    public static void WriteMetadata(GgufWriter w, ModelConfig c, string arch)
    {
        // No window means the sliding layers see every earlier token: a window as long as the context does the same.
        w.Set($"{arch}.attention.sliding_window", GgufValue.UInt32((uint)(c.SlidingWindow ?? c.MaxPositions)));
        if (arch == "gemma3")
        {
            w.Set($"{arch}.attention.sliding_window_pattern", GgufValue.UInt32((uint)SlidingPeriod(c, "the model", arch)));
            w.Set($"{arch}.rope.freq_base_swa", GgufValue.Float32((float)(c.LocalRopeTheta ?? c.RopeTheta)));
        }
        else
        {
            w.Set($"{arch}.attn_logit_softcapping", GgufValue.Float32((float)c.AttentionSoftcap!.Value));
            w.Set($"{arch}.final_logit_softcapping", GgufValue.Float32((float)c.FinalLogitSoftcap!.Value));
        }
    }

    /// <summary>llama.cpp's name for a Gemma block tensor part (the four norms have names of their own).</summary>
    public static string? BlockPart(string part) => part switch
    {
        "input_layernorm" => "attn_norm", "self_attn.q_proj" => "attn_q", "self_attn.k_proj" => "attn_k",
        "self_attn.v_proj" => "attn_v", "self_attn.o_proj" => "attn_output",
        "self_attn.q_norm" => "attn_q_norm", "self_attn.k_norm" => "attn_k_norm",
        "post_attention_layernorm" => "post_attention_norm", "pre_feedforward_layernorm" => "ffn_norm",
        "post_feedforward_layernorm" => "post_ffw_norm",
        "mlp.gate_proj" => "ffn_gate", "mlp.up_proj" => "ffn_up", "mlp.down_proj" => "ffn_down",
        _ => null,
    };

    /// <summary>
    /// Gemma's norms multiply by (1 + weight), llama.cpp's by the weight: the file holds 1 + weight (as llama.cpp's
    /// own converter writes it).
    /// </summary>
    public static bool IsNorm(ModelConfig c, string hfName) =>
        c.Family == ModelFamily.Gemma && hfName.EndsWith("norm.weight", StringComparison.Ordinal);

    // llama.cpp takes the 27B sizes' scale from hidden / heads (integer division), every other size's from head_dim.
    private static int QueryScalar(ModelConfig c) => c.NumLayers == BigLayers(c) ? c.HiddenSize / c.NumHeads : c.HeadDim;

    private static int BigLayers(ModelConfig c) => c.ModelType == "gemma3_text" ? 62 : 46;

    /// <summary>
    /// llama.cpp makes layer i sliding when i mod p &lt; p − 1 (every p-th layer global): the p the kit's layer types
    /// follow, or an error naming the first layer that breaks the pattern.
    /// </summary>
    private static int SlidingPeriod(ModelConfig c, string source, string arch)
    {
        var windowed = c.WindowedLayers ?? throw new GgufExportException($"{source}: the config has no layer types.");
        int firstGlobal = Enumerable.Range(0, c.NumLayers).FirstOrDefault(i => !windowed[i], -1);
        if (firstGlobal < 0)
            throw new GgufExportException($"{source}: every layer is a sliding-window layer; llama.cpp's {arch} needs global layers between them.");
        if (firstGlobal == 0)
            throw new GgufExportException($"{source}: layer 0 is a global layer; llama.cpp's {arch} starts with sliding-window layers (every p-th layer global).");
        int period = firstGlobal + 1;
        for (int i = 0; i < c.NumLayers; i++)
            if (windowed[i] != i % period < period - 1)
                throw new GgufExportException($"{source}: layer {i} is {(windowed[i] ? "sliding" : "global")}, which breaks the pattern llama.cpp's {arch} runs (one global layer in every {period}, from layer {firstGlobal}).");
        return period;
    }
}
