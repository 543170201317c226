using FineTune.Kit.Models;
using FineTune.Kit.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Kit.Serving;

/// <summary>
/// Writes a model as a GGUF file llama.cpp (and Ollama, LM Studio, LLamaSharp) runs as the kit does: architecture
/// metadata, the tokenizer, the chat template, and the weights under llama.cpp's tensor names, with the query and key
/// rows of the <c>llama</c> architecture reordered for its interleaved rotary embedding, Gemma's norm gains stored
/// as the 1 + weight they multiply by, and Phi-3's fused projections kept fused.
/// </summary>
public static class GgufExporter
{
    /// <summary>
    /// Exports a model to <paramref name="path"/> (atomically) and writes an Ollama <c>Modelfile</c> beside it. The
    /// tokenizer is read from the folder the model was loaded from; adapters must be merged first.
    /// </summary>
    /// <returns>The path of the Modelfile written.</returns>
    /// <exception cref="GgufExportException">The model, its config or its tokenizer has something llama.cpp would not reproduce.</exception>
    public static string Export(CausalLM model, string path, GgufFileType type = GgufFileType.F16, string? name = null)
    {
        var writer = Build(model, type, name);
        writer.Save(path);
        return OllamaModelfile.Write(path, model.RequireTokenizer());
    }

    /// <summary>Builds the GGUF contents without writing them (the tensors are read from the model when saved).</summary>
    public static GgufWriter Build(CausalLM model, GgufFileType type = GgufFileType.F16, string? name = null)
    {
        var c = model.Config;
        var source = model.SourceDirectory ?? "the model";
        CheckSupported(model, source);
        name ??= model.SourceDirectory is { } d ? Path.GetFileName(Path.GetFullPath(d).TrimEnd(Path.DirectorySeparatorChar)) : "model";
        var tokenizer = model.SourceDirectory is { } dir
            ? GgufTokenizer.FromFolder(dir, c.VocabSize, name)
            : throw new GgufExportException("the model was not loaded from a folder, so its tokenizer files cannot be read: save it (model.Save(dir)) and load it again before exporting.");
        // llama.cpp decides some tokenizer behaviour from the file's name
        GgufPhi3.CheckName(name, tokenizer);
        var arch = Architecture(c);

        var w = new GgufWriter();
        w.Set("general.architecture", GgufValue.String(arch));
        w.Set("general.name", GgufValue.String(name));
        w.Set("general.alignment", GgufValue.UInt32(Gguf.Alignment));
        w.Set("general.file_type", GgufValue.UInt32((uint)type));
        w.Set($"{arch}.vocab_size", GgufValue.UInt32((uint)c.VocabSize));
        w.Set($"{arch}.context_length", GgufValue.UInt32((uint)(c.ModelType == "phi3" ? GgufPhi3.ContextLength(c) : c.MaxPositions)));
        w.Set($"{arch}.embedding_length", GgufValue.UInt32((uint)c.HiddenSize));
        w.Set($"{arch}.block_count", GgufValue.UInt32((uint)c.NumLayers));
        w.Set($"{arch}.feed_forward_length", GgufValue.UInt32((uint)c.IntermediateSize));
        w.Set($"{arch}.attention.head_count", GgufValue.UInt32((uint)c.NumHeads));
        w.Set($"{arch}.attention.head_count_kv", GgufValue.UInt32((uint)c.NumKvHeads));
        if (c.Family == ModelFamily.Gpt2)
            w.Set($"{arch}.attention.layer_norm_epsilon", GgufValue.Float32((float)c.NormEps));
        else
        {
            w.Set($"{arch}.rope.freq_base", GgufValue.Float32((float)c.RopeTheta));
            w.Set($"{arch}.rope.dimension_count", GgufValue.UInt32((uint)c.RotaryDim));
            w.Set($"{arch}.attention.layer_norm_rms_epsilon", GgufValue.Float32((float)c.NormEps));
            if (c.HeadDim * c.NumHeads != c.HiddenSize || c.Family == ModelFamily.Gemma)
            {
                w.Set($"{arch}.attention.key_length", GgufValue.UInt32((uint)c.HeadDim));
                w.Set($"{arch}.attention.value_length", GgufValue.UInt32((uint)c.HeadDim));
            }
        }
        if (c.Family == ModelFamily.Gemma) GgufGemma.WriteMetadata(w, c, arch);
        if (c.ModelType == "phi3") GgufPhi3.WriteMetadata(w, c, arch);
        tokenizer.WriteTo(w, model.RequireTokenizer(), c);

        foreach (var (key, tensor) in model.StateForSaving())
        {
            var ggufName = TensorName(c, key) ?? throw new GgufExportException($"{source}: tensor '{key}' has no llama.cpp name for architecture {arch}.");
            w.Add(Tensor(c, key, ggufName, tensor, type));
        }
        return w;
    }

    /// <summary>
    /// The llama.cpp architecture a config exports as: <c>llama</c> (Llama, Mistral), <c>qwen2</c>, <c>qwen3</c>,
    /// <c>phi3</c>, <c>gemma2</c>, <c>gemma3</c> (from gemma3_text) or <c>gpt2</c>.
    /// </summary>
    public static string Architecture(ModelConfig c) => c.ModelType switch
    {
        "llama" or "mistral" => "llama",
        "qwen2" => "qwen2",
        "qwen3" => "qwen3",
        "phi3" => "phi3",
        "gemma2" => "gemma2",
        "gemma3_text" => "gemma3",
        "gpt2" => "gpt2",
        var other => throw new GgufExportException($"model_type \"{other}\" has no GGUF export (supported: {Supported})."),
    };

    private const string Supported = "llama, mistral, qwen2, qwen3, phi3, gemma2, gemma3_text, gpt2";

    private static void CheckSupported(CausalLM model, string source)
    {
        var c = model.Config;
        Architecture(c);
        int unmerged = model.Module.modules().OfType<Lora.LoraLinear>().Count(l => !l.Merged);
        if (unmerged > 0)
            throw new GgufExportException($"the model has {unmerged} unmerged LoRA layers: call adapter.MergeAndUnload() before exporting (GGUF holds plain weights).");
        if (c.Family == ModelFamily.Gpt2)
        {
            if (c.HiddenAct is not ("gelu_new" or "gelu_pytorch_tanh"))
                throw new GgufExportException($"{source}: activation_function \"{c.HiddenAct}\" is not what llama.cpp's gpt2 runs (gelu_new).");
            return;
        }
        if (c.Family == ModelFamily.Gemma)
        {
            GgufGemma.Check(c, source);
            return;
        }
        if (c.ModelType == "phi3")
        {
            GgufPhi3.Check(c, source);
            return;
        }
        if (c.HiddenAct != "silu")
            throw new GgufExportException($"{source}: hidden_act \"{c.HiddenAct}\" is not what llama.cpp's {Architecture(c)} runs (silu).");
        if (c.RopeScaling is { } s && s.Type != "default")
            throw new GgufExportException($"{source}: rope_scaling type \"{s.Type}\" is not exported; llama.cpp would rotate positions differently.");
        if (Enumerable.Range(0, c.NumLayers).Any(l => c.LayerWindow(l) is { } w && w < c.MaxPositions))
            throw new GgufExportException($"{source}: sliding-window attention ({c.SlidingWindow} tokens) is not applied by llama.cpp's {Architecture(c)} architecture; it would attend to every earlier token.");
        if (c.ModelType == "qwen2" && (c.OutputBias || c.MlpBias))
            throw new GgufExportException($"{source}: qwen2 with attention-output or MLP biases is not what llama.cpp's qwen2 runs.");
        if (c.ModelType != "qwen2" && c.QkvBias)
            throw new GgufExportException($"{source}: attention_bias is not exported for the llama architecture.");
        if (c.ModelType != "qwen2" && c.MlpBias)
            throw new GgufExportException($"{source}: mlp_bias is not exported for the llama architecture.");
    }

    /// <summary>The llama.cpp name of a Hugging Face tensor, or null when it has none.</summary>
    public static string? TensorName(ModelConfig c, string hfName)
    {
        if (c.Family == ModelFamily.Gpt2)
        {
            var n = hfName.StartsWith("transformer.", StringComparison.Ordinal) ? hfName["transformer.".Length..] : hfName;
            var gpt2Global = n switch
            {
                "wte.weight" => "token_embd.weight", "wpe.weight" => "position_embd.weight",
                "ln_f.weight" => "output_norm.weight", "ln_f.bias" => "output_norm.bias", _ => null,
            };
            if (gpt2Global is not null) return gpt2Global;
            return Block(n, "h.", part => part switch
            {
                "ln_1" => "attn_norm", "attn.c_attn" => "attn_qkv", "attn.c_proj" => "attn_output",
                "ln_2" => "ffn_norm", "mlp.c_fc" => "ffn_up", "mlp.c_proj" => "ffn_down", _ => null,
            });
        }
        var global = hfName switch
        {
            "model.embed_tokens.weight" => "token_embd.weight", "model.norm.weight" => "output_norm.weight",
            "lm_head.weight" => "output.weight", _ => null,
        };
        if (global is not null) return global;
        if (c.Family == ModelFamily.Gemma) return Block(hfName, "model.layers.", GgufGemma.BlockPart);
        if (c.ModelType == "phi3") return Block(hfName, "model.layers.", GgufPhi3.BlockPart);
        return Block(hfName, "model.layers.", part => part switch
        {
            "input_layernorm" => "attn_norm", "self_attn.q_proj" => "attn_q", "self_attn.k_proj" => "attn_k",
            "self_attn.v_proj" => "attn_v", "self_attn.o_proj" => "attn_output", "post_attention_layernorm" => "ffn_norm",
            "mlp.gate_proj" => "ffn_gate", "mlp.up_proj" => "ffn_up", "mlp.down_proj" => "ffn_down",
            "self_attn.q_norm" => "attn_q_norm", "self_attn.k_norm" => "attn_k_norm",   // qwen3
            _ => null,
        });
    }

    // "<prefix>N.<part>.weight|bias" → "blk.N.<mapped>.weight|bias"
    private static string? Block(string name, string prefix, Func<string, string?> map)
    {
        if (!name.StartsWith(prefix, StringComparison.Ordinal)) return null;
        var rest = name[prefix.Length..];
        int dot = rest.IndexOf('.');
        if (dot <= 0 || !int.TryParse(rest[..dot], out var layer)) return null;
        var tail = rest[(dot + 1)..];
        int last = tail.LastIndexOf('.');
        if (last <= 0) return null;
        var mapped = map(tail[..last]);
        return mapped is null ? null : $"blk.{layer}.{mapped}.{tail[(last + 1)..]}";
    }

    private static GgufTensorSource Tensor(ModelConfig c, string hfName, string ggufName, Tensor parameter, GgufFileType fileType)
    {
        var shape = parameter.shape.ToArray();
        bool conv1d = c.Family == ModelFamily.Gpt2 && shape.Length == 2 && hfName.EndsWith(".weight", StringComparison.Ordinal)
                      && (hfName.Contains(".attn.c_attn.") || hfName.Contains(".attn.c_proj.") || hfName.Contains(".mlp.c_fc.") || hfName.Contains(".mlp.c_proj."));
        // GPT-2's Conv1D stores [in, out]; llama.cpp multiplies by [out, in] like a Linear weight
        if (conv1d) shape = [shape[1], shape[0]];
        int permuteHeads = c.ModelType is "llama" or "mistral"
            ? hfName.Contains(".self_attn.q_proj.") ? c.NumHeads : hfName.Contains(".self_attn.k_proj.") ? c.NumKvHeads : 0
            : 0;
        bool gemmaNorm = GgufGemma.IsNorm(c, hfName);
        var type = StorageType(ggufName, shape, fileType);
        return new GgufTensorSource(ggufName, shape, type, () =>
        {
            using var scope = NewDisposeScope();
            var t = parameter.detach().to_type(ScalarType.Float32).cpu();
            if (conv1d) t = t.t();
            if (gemmaNorm) t = t + 1;
            var values = t.contiguous().data<float>().ToArray();
            return permuteHeads > 0 ? InterleaveRotaryHalves(values, permuteHeads, (int)shape[0] / permuteHeads, shape.Length == 2 ? (int)shape[1] : 1) : values;
        });
    }

    // Norms, biases and learned positions stay F32 (as llama.cpp's converter keeps them); Q8_0 needs rows of whole blocks.
    private static GgmlType StorageType(string ggufName, long[] shape, GgufFileType fileType)
    {
        if (fileType == GgufFileType.F32 || shape.Length < 2 || ggufName.StartsWith("position_embd", StringComparison.Ordinal)) return GgmlType.F32;
        if (fileType == GgufFileType.Q8_0 && shape[^1] % Gguf.Q8BlockSize == 0) return GgmlType.Q8_0;
        return GgmlType.F16;
    }

    /// <summary>
    /// Reorders the rows of a query or key projection from Hugging Face's rotate-half layout (each head's first half of
    /// rows are the real parts, the second half the imaginary ones) to llama.cpp's interleaved pairs: within a head, new
    /// row 2j+i is old row i·(headDim/2)+j.
    /// </summary>
    public static float[] InterleaveRotaryHalves(float[] rows, int heads, int headDim, int rowLength)
    {
        if (headDim % 2 != 0) throw new ArgumentException($"head_dim {headDim} must be even for rotary embeddings.");
        if (rows.Length != heads * headDim * rowLength) throw new ArgumentException($"{rows.Length} values do not make {heads} heads × {headDim} rows × {rowLength}.");
        var result = new float[rows.Length];
        int half = headDim / 2;
        for (int h = 0; h < heads; h++)
            for (int j = 0; j < half; j++)
                for (int i = 0; i < 2; i++)
                {
                    int from = h * headDim + i * half + j, to = h * headDim + 2 * j + i;
                    Array.Copy(rows, from * rowLength, result, to * rowLength, rowLength);
                }
        return result;
    }

    /// <summary>Parses <c>--type</c>: f32, f16 or q8_0.</summary>
    public static GgufFileType ParseType(string text) => text.ToLowerInvariant() switch
    {
        "f32" => GgufFileType.F32,
        "f16" => GgufFileType.F16,
        "q8_0" => GgufFileType.Q8_0,
        _ => throw new ArgumentException($"--type '{text}' is not supported (expected f32, f16 or q8_0)."),
    };
}
