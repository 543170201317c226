using System.Text.Json.Nodes;

namespace FineTune.Kit.Models;

/// <summary>
/// The shapes of small open models people fine-tune, as their published <c>config.json</c> states them, for benchmarks
/// with random weights at real size (no weights are shipped or downloaded). Each goes through <see cref="ModelConfig.FromJson"/>,
/// so a preset exercises the same family code a downloaded checkpoint would.
/// </summary>
public static class ModelPresets
{
    /// <summary>The preset names: <c>smollm2-135m</c>, <c>qwen3-0.6b</c>, <c>gemma3-270m</c>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["smollm2-135m", "qwen3-0.6b", "gemma3-270m"];

    /// <summary>The config of a preset; an unknown name is an error listing the known ones.</summary>
    /// <param name="name">One of <see cref="Names"/> (case-insensitive).</param>
    /// <param name="maxPositions">Overrides <c>max_position_embeddings</c> (e.g. to keep position tables small); null keeps the model's.</param>
    public static ModelConfig Get(string name, int? maxPositions = null)
    {
        var json = ConfigJson(name);
        if (maxPositions is { } m)
        {
            if (m < 2) throw new ArgumentOutOfRangeException(nameof(maxPositions), m, "maxPositions must be 2 or more.");
            json["max_position_embeddings"] = m;
        }
        return ModelConfig.FromJson(json, $"preset {name}");
    }

    /// <summary>The preset's config.json content.</summary>
    public static JsonObject ConfigJson(string name) => name.ToLowerInvariant() switch
    {
        // HuggingFaceTB/SmolLM2-135M
        "smollm2-135m" => new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"), ["model_type"] = "llama",
            ["vocab_size"] = 49152, ["hidden_size"] = 576, ["intermediate_size"] = 1536, ["num_hidden_layers"] = 30,
            ["num_attention_heads"] = 9, ["num_key_value_heads"] = 3, ["max_position_embeddings"] = 8192,
            ["rms_norm_eps"] = 1e-5, ["rope_theta"] = 100000.0, ["tie_word_embeddings"] = true, ["hidden_act"] = "silu",
            ["attention_bias"] = false, ["mlp_bias"] = false, ["initializer_range"] = 0.041666666666666664,
            ["bos_token_id"] = 0, ["eos_token_id"] = 0, ["torch_dtype"] = "bfloat16",
        },
        // Qwen/Qwen3-0.6B
        "qwen3-0.6b" => new JsonObject
        {
            ["architectures"] = new JsonArray("Qwen3ForCausalLM"), ["model_type"] = "qwen3",
            ["vocab_size"] = 151936, ["hidden_size"] = 1024, ["intermediate_size"] = 3072, ["num_hidden_layers"] = 28,
            ["num_attention_heads"] = 16, ["num_key_value_heads"] = 8, ["head_dim"] = 128, ["max_position_embeddings"] = 40960,
            ["rms_norm_eps"] = 1e-6, ["rope_theta"] = 1000000.0, ["tie_word_embeddings"] = true, ["hidden_act"] = "silu",
            ["attention_bias"] = false, ["use_sliding_window"] = false, ["sliding_window"] = null, ["max_window_layers"] = 28,
            ["initializer_range"] = 0.02, ["bos_token_id"] = 151643, ["eos_token_id"] = 151645, ["torch_dtype"] = "bfloat16",
        },
        // google/gemma-3-270m: five sliding-window layers (512 tokens, RoPE base 10,000) to one global (base 1,000,000)
        "gemma3-270m" => new JsonObject
        {
            ["architectures"] = new JsonArray("Gemma3ForCausalLM"), ["model_type"] = "gemma3_text",
            ["vocab_size"] = 262144, ["hidden_size"] = 640, ["intermediate_size"] = 2048, ["num_hidden_layers"] = 18,
            ["num_attention_heads"] = 4, ["num_key_value_heads"] = 1, ["head_dim"] = 256, ["max_position_embeddings"] = 32768,
            ["rms_norm_eps"] = 1e-6, ["rope_theta"] = 1000000.0, ["rope_local_base_freq"] = 10000.0, ["rope_scaling"] = null,
            ["sliding_window"] = 512, ["query_pre_attn_scalar"] = 256, ["hidden_activation"] = "gelu_pytorch_tanh",
            ["layer_types"] = new JsonArray(Enumerable.Range(0, 18)
                .Select(i => (JsonNode)JsonValue.Create((i + 1) % 6 == 0 ? "full_attention" : "sliding_attention")!).ToArray()),
            ["attn_logit_softcapping"] = null, ["final_logit_softcapping"] = null, ["attention_bias"] = false,
            ["tie_word_embeddings"] = true, ["initializer_range"] = 0.02,
            ["bos_token_id"] = 2, ["eos_token_id"] = 1, ["pad_token_id"] = 0, ["torch_dtype"] = "bfloat16",
        },
        _ => throw new ArgumentException($"Unknown model preset \"{name}\" (known: {string.Join(", ", Names)}).", nameof(name)),
    };
}
