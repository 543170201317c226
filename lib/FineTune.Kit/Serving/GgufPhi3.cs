using FineTune.Kit.Models;

namespace FineTune.Kit.Serving;

/// <summary>
/// What llama.cpp's <c>phi3</c> architecture runs, and the Phi-3 configs it would run differently. Its layout is the
/// checkpoint's: the fused [q | k | v] projection as <c>attn_qkv</c> and the fused [gate | up] projection as
/// <c>ffn_up</c>, whose first half it passes through SiLU and multiplies by the second. Its rotary embedding pairs
/// channel i with i + n_rot/2 within the first n_rot channels of a head, as rotate-half does, so no rows are reordered;
/// n_rot is <c>rope.dimension_count</c> = head_dim · partial_rotary_factor. llama.cpp reads but does not apply Phi-3's
/// sliding window (it attends to every earlier token), so a file whose window is shorter than the model's context
/// states the window as its context length: within it the two agree.
/// </summary>
internal static class GgufPhi3
{
    /// <summary>Refuses a Phi-3 config llama.cpp would run differently, naming the setting.</summary>
    public static void Check(ModelConfig c, string source)
    {
        if (c.HiddenAct is not ("silu" or "swish"))
            throw new GgufExportException($"{source}: hidden_act \"{c.HiddenAct}\" is not what llama.cpp's phi3 runs (silu).");
        // longrope is not exported: llama.cpp would need its rope_factors_long/short tensors and attention factor
        if (c.RopeScaling is { } s && s.Type != "default")
            throw new GgufExportException($"{source}: rope_scaling type \"{s.Type}\" is not exported; llama.cpp would rotate positions differently.");
        // llama.cpp sizes the query and output projections of phi3 by the hidden size
        if (c.NumHeads * c.HeadDim != c.HiddenSize)
            throw new GgufExportException($"{source}: head_dim {c.HeadDim} × {c.NumHeads} heads is not hidden_size {c.HiddenSize}, which llama.cpp's phi3 assumes.");
        if (c.QkvBias || c.OutputBias || c.MlpBias)
            throw new GgufExportException($"{source}: biases are not exported for the phi3 architecture (llama.cpp loads none for it).");
    }

    /// <summary>
    /// The context length the file states: the model's, or the sliding window when that is shorter (llama.cpp attends
    /// to every earlier token, which is what the window allows only up to its length).
    /// </summary>
    public static int ContextLength(ModelConfig c) =>
        c.SlidingWindow is { } w && w < c.MaxPositions ? w : c.MaxPositions;

    /// <summary>The key beyond the common ones: the window, as llama.cpp's converter writes it (llama.cpp reads it, then sets it aside).</summary>
    public static void WriteMetadata(GgufWriter w, ModelConfig c, string arch)
    {
        if (c.SlidingWindow is { } window) w.Set($"{arch}.attention.sliding_window", GgufValue.UInt32((uint)window));
    }

    /// <summary>
    /// llama.cpp recognises Phi-3 by <c>general.name</c>, whatever the architecture: when the name contains "phi3" or
    /// "phi-3" it strips the whitespace after every special token but &lt;unk&gt;, &lt;s&gt; and &lt;|endoftext|&gt;, and
    /// after &lt;/s&gt;, as Phi-3's tokenizer.json does by its <c>rstrip</c> flags.
    /// </summary>
    public static bool NameMakesLlamaCppStrip(string name)
    {
        var lower = name.ToLowerInvariant();
        return lower.Contains("phi3") || lower.Contains("phi-3");
    }

    /// <summary>
    /// Refuses a name under which llama.cpp would strip whitespace after other tokens than the tokenizer does
    /// (its rule above against the tokenizer's <c>rstrip</c> flags), naming the first token that differs. Under such
    /// a name llama.cpp also fails to load a vocabulary without the four tokens the rule names.
    /// </summary>
    public static void CheckName(string name, GgufTokenizer tokenizer)
    {
        bool rule = NameMakesLlamaCppStrip(name);
        if (rule && RuleTokens.FirstOrDefault(t => !tokenizer.Tokens.Contains(t)) is { } missing)
            throw new GgufExportException(
                $"the name \"{name}\" makes llama.cpp apply its Phi-3 tokenizer rule, and it fails to load a file whose vocabulary has no '{missing}': export under a name without \"phi3\" or \"phi-3\" (--name).");
        for (int id = 0; id < tokenizer.Tokens.Count; id++)
        {
            var token = tokenizer.Tokens[id];
            bool special = tokenizer.TokenTypes[id] is GgufTokenType.Control or GgufTokenType.UserDefined or GgufTokenType.Unknown;
            bool llamaCppStrips = rule && (token == "</s>" || special && token is not ("<unk>" or "<s>" or "<|endoftext|>"));
            bool kitStrips = tokenizer.RStripped.Contains(token);
            if (llamaCppStrips && !kitStrips)
                throw new GgufExportException(
                    $"the name \"{name}\" makes llama.cpp strip the whitespace after special tokens such as '{token}' (its rule for Phi-3 files), which the tokenizer does not do: export under a name without \"phi3\" or \"phi-3\" (--name).");
            if (kitStrips && !llamaCppStrips)
                throw new GgufExportException(
                    $"the tokenizer strips the whitespace after '{token}' (rstrip), which llama.cpp does only for Phi-3's special tokens in a file whose name contains \"phi3\" or \"phi-3\" (--name), and not for this token.");
        }
    }

    private static readonly string[] RuleTokens = ["</s>", "<unk>", "<s>", "<|endoftext|>"];

    /// <summary>llama.cpp's name for a Phi-3 block tensor part (the fused projections keep their layout).</summary>
    public static string? BlockPart(string part) => part switch
    {
        "input_layernorm" => "attn_norm", "self_attn.qkv_proj" => "attn_qkv", "self_attn.o_proj" => "attn_output",
        "post_attention_layernorm" => "ffn_norm", "mlp.gate_up_proj" => "ffn_up", "mlp.down_proj" => "ffn_down",
        _ => null,
    };
}
