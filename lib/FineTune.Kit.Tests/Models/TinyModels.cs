using System.Text.Json.Nodes;
using FineTune.Kit.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Kit.Tests.Models;

/// <summary>Tiny random checkpoints in each supported layout, written to temporary folders.</summary>
internal static class TinyModels
{
    public static ModelConfig Llama(bool tied = false, string type = "llama") =>
        ModelConfig.Llama(vocab: 23, hidden: 16, layers: 2, heads: 4, kvHeads: 2, ffn: 24, maxPositions: 64, tied: tied, modelType: type);

    public static ModelConfig Gpt2() => ModelConfig.Gpt2(vocab: 23, hidden: 16, layers: 2, heads: 4, maxPositions: 64);

    public static IEnumerable<object[]> AllConfigs() =>
    [
        ["llama"], ["llama-tied"], ["qwen2"], ["mistral"], ["gpt2"], ["qwen3"], ["phi3"], ["gemma3"], ["gemma2"],
    ];

    public static ModelConfig ByName(string name) => name switch
    {
        "llama" => Llama(),
        "llama-tied" => Llama(tied: true),
        "qwen2" => Llama(type: "qwen2"),
        "mistral" => Llama(type: "mistral"),
        "gpt2" => Gpt2(),
        "qwen3" => Qwen3(),
        "phi3" => Phi3(),
        "gemma3" => Gemma3(),
        "gemma2" => Gemma2(),
        _ => throw new ArgumentException(name),
    };

    /// <summary>config.json content as the Hub writes it for the newer families, shrunk; <paramref name="edit"/> changes it.</summary>
    public static ModelConfig FromJson(string modelType, Action<JsonObject>? edit = null)
    {
        var json = new JsonObject
        {
            ["model_type"] = modelType, ["vocab_size"] = 23, ["hidden_size"] = 16, ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2, ["intermediate_size"] = 24,
            ["max_position_embeddings"] = 64, ["rms_norm_eps"] = 1e-6, ["initializer_range"] = 0.02, ["torch_dtype"] = "float32",
        };
        edit?.Invoke(json);
        return ModelConfig.FromJson(json, $"tiny {modelType} config.json");
    }

    /// <summary>Qwen3: head_dim 8 while hidden / heads is 4, per-head q/k norms, untied head.</summary>
    public static ModelConfig Qwen3(Action<JsonObject>? edit = null) => FromJson("qwen3", j =>
    {
        j["head_dim"] = 8; j["hidden_act"] = "silu"; j["rope_theta"] = 10000.0; j["tie_word_embeddings"] = false;
        j["attention_bias"] = false; j["use_sliding_window"] = false; j["sliding_window"] = null; j["max_window_layers"] = 2;
        edit?.Invoke(j);
    });

    /// <summary>Phi-3: head_dim 8 of which half rotates (partial_rotary_factor 0.5), no sliding window.</summary>
    public static ModelConfig Phi3(Action<JsonObject>? edit = null) => FromJson("phi3", j =>
    {
        j["hidden_size"] = 32; j["hidden_act"] = "silu"; j["rope_theta"] = 10000.0; j["rope_scaling"] = null;
        j["partial_rotary_factor"] = 0.5; j["sliding_window"] = null; j["tie_word_embeddings"] = false;
        j["resid_pdrop"] = 0.0; j["embd_pdrop"] = 0.0; j["attention_dropout"] = 0.0;
        edit?.Invoke(j);
    });

    /// <summary>
    /// Gemma 3 text: three layers, sliding (window 3, local base 10⁴), global (base 10⁶), sliding; head_dim 8 and
    /// query_pre_attn_scalar 6; no soft-capping; tied head.
    /// </summary>
    public static ModelConfig Gemma3(Action<JsonObject>? edit = null) => FromJson("gemma3_text", j =>
    {
        j["num_hidden_layers"] = 3; j["head_dim"] = 8; j["hidden_activation"] = "gelu_pytorch_tanh";
        j["query_pre_attn_scalar"] = 6; j["sliding_window"] = 3; j["sliding_window_pattern"] = 2;
        j["rope_theta"] = 1_000_000.0; j["rope_local_base_freq"] = 10_000.0; j["rope_scaling"] = null;
        j["attn_logit_softcapping"] = null; j["final_logit_softcapping"] = null; j["tie_word_embeddings"] = true;
        edit?.Invoke(j);
    });

    /// <summary>Gemma 2: sliding (window 3) then global; the class defaults for soft-capping (50 and 30) as the Hub configs state them.</summary>
    public static ModelConfig Gemma2(Action<JsonObject>? edit = null) => FromJson("gemma2", j =>
    {
        j["head_dim"] = 8; j["hidden_activation"] = "gelu_pytorch_tanh"; j["query_pre_attn_scalar"] = 8;
        j["sliding_window"] = 3; j["rope_theta"] = 10000.0; j["attn_logit_softcapping"] = 50.0;
        j["final_logit_softcapping"] = 30.0; j["tie_word_embeddings"] = true;
        edit?.Invoke(j);
    });

    /// <summary>A model whose biases and norm gains are random too, so a wrong loader or formula cannot hide.</summary>
    public static CausalLM Random(ModelConfig config, int seed = 1)
    {
        var model = CausalLM.Create(config, seed, "cpu");
        var g = new Generator((ulong)seed + 100);
        using (no_grad())
            foreach (var (name, p) in model.Module.named_parameters())
                if (name.EndsWith("bias") || name.Contains("norm") || name.Contains("ln_"))
                    p.add_(randn(p.shape, generator: g) * 0.1);
        return model;
    }

    /// <summary>
    /// A random model's attention is nearly uniform (initializer_range 0.02), so positions and masks hardly move the
    /// logits; query and key weights <paramref name="factor"/> times larger make the attention sharp enough for a wrong
    /// rotation, mask or head split to show.
    /// </summary>
    public static CausalLM Sharpened(CausalLM model, float factor = 20)
    {
        using var _ = no_grad();
        var c = model.Config;
        int hidden = c.HiddenSize;
        foreach (var (name, p) in model.Module.named_parameters())
        {
            // per-head q/k norms undo any scale of the projections: scale their gains instead (unit-RMS heads are already
            // sharper than the tiny projections' outputs, so by less)
            if (name.EndsWith("q_norm.weight") || name.EndsWith("k_norm.weight"))
            {
                if (c.Family == ModelFamily.Gemma) p.add_(1).mul_(2).sub_(1);   // gain is 1 + weight
                else p.mul_(2);
            }
            else if (name.Contains("q_proj") || name.Contains("k_proj")) p.mul_(factor);
            // Phi-3's qkv_proj packs [q | k | v] along its output rows
            else if (name.EndsWith("qkv_proj.weight")) p.narrow(0, 0, (c.NumHeads + c.NumKvHeads) * c.HeadDim).mul_(factor);
            // GPT-2's c_attn packs [q | k | v] along its output columns (Conv1D weight is [in, out])
            else if (name.EndsWith("c_attn.weight")) p.narrow(1, 0, 2 * hidden).mul_(factor);
            else if (name.EndsWith("c_attn.bias")) p.narrow(0, 0, 2 * hidden).mul_(factor);
        }
        return model;
    }

}

/// <summary>Tiny models that come with a real (tiny) byte-level BPE tokenizer.</summary>
internal static class TinyTokenized
{
    private static readonly string[] Corpus =
    [
        "my parcel never arrived and the tracking page is empty",
        "please refund the double charge on my card",
        "the thermostat shows error E42 after the update",
        "I cannot log in, the password reset email never arrives",
        "great service, the driver was friendly",
    ];

    public static FineTune.Kit.Text.TextTokenizer Tokenizer() =>
        new FineTune.Kit.Text.BpeTrainer().VocabSize(300).SpecialTokens("<|endoftext|>").Train(Corpus).ToTokenizer();

    /// <summary>A random Llama-family model whose vocabulary is the tiny tokenizer's.</summary>
    public static CausalLM Llama(int seed = 1)
    {
        var tok = Tokenizer();
        var cfg = ModelConfig.Llama(tok.VocabSize, 16, 2, 4, 2, 24, maxPositions: 128, tied: true);
        var model = TinyModels.Random(cfg with { PadTokenId = 0, EosTokenIds = [0] }, seed);
        model.Tokenizer = tok;
        return model;
    }
}
