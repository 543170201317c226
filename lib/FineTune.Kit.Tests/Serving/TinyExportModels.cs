using FineTune.Kit.Models;
using FineTune.Kit.Tests.Models;
using FineTune.Kit.Text;

namespace FineTune.Kit.Tests.Serving;

/// <summary>Tiny random model folders with a real byte-level BPE tokenizer and a ChatML template, for export tests.</summary>
internal static class TinyExportModels
{
    private static readonly string[] Corpus =
    [
        "my parcel never arrived and the tracking page is empty",
        "please refund the double charge on my card, it's been 12 days",
        "the thermostat shows error E42 after the update; I can't reset it",
        "I cannot log in, the password reset email never arrives",
        "great service, the driver was friendly and you'll hear from me again",
    ];

    /// <summary>Names of the variants: each architecture, tied and untied where it has both.</summary>
    public static IEnumerable<object[]> Variants() => [["llama"], ["llama-tied"], ["mistral"], ["qwen2"], ["qwen2-tied"], ["gpt2"], ["qwen3"], ["qwen3-tied"],
        ["gemma3"], ["gemma3-untied"], ["gemma2"], ["phi3"], ["phi3-tied"]];

    public static BpeModel Tokenizer() =>
        new BpeTrainer().VocabSize(320).SpecialTokens("<|endoftext|>", "<|im_start|>", "<|im_end|>").Train(Corpus);

    /// <summary>
    /// A saved model folder. Weights are drawn with standard deviation 0.2 (not 0.02) so that the logits spread over
    /// several units and attention is far from uniform: a wrong head order or rotation then shows in the logits.
    /// </summary>
    public static string Folder(string variant, int seed = 7)
    {
        var bpe = Tokenizer();
        int vocab = bpe.VocabSize + 5;   // a few unused rows past the tokenizer, as real checkpoints pad theirs
        var config = variant switch
        {
            "llama" => ModelConfig.Llama(vocab, 64, 2, 4, 2, 96, maxPositions: 128, tied: false),
            "llama-tied" => ModelConfig.Llama(vocab, 64, 2, 4, 2, 96, maxPositions: 128, tied: true),
            "mistral" => ModelConfig.Llama(vocab, 64, 2, 4, 2, 96, maxPositions: 128, tied: false, modelType: "mistral"),
            "qwen2" => ModelConfig.Llama(vocab, 64, 2, 4, 2, 96, maxPositions: 128, tied: false, modelType: "qwen2"),
            "qwen2-tied" => ModelConfig.Llama(vocab, 64, 2, 4, 2, 96, maxPositions: 128, tied: true, modelType: "qwen2"),
            "gpt2" => ModelConfig.Gpt2(vocab, 64, 2, 4, maxPositions: 128),
            // head_dim 32 while hidden / heads is 16, with q/k norms
            "qwen3" or "qwen3-tied" => TinyModels.FromJson("qwen3", j =>
            {
                j["vocab_size"] = vocab; j["hidden_size"] = 64; j["head_dim"] = 32; j["intermediate_size"] = 96;
                j["max_position_embeddings"] = 128; j["tie_word_embeddings"] = variant == "qwen3-tied"; j["rope_theta"] = 10000.0;
            }),
            // Gemma: head_dim 32 while hidden / heads is 16, and query_pre_attn_scalar = head_dim, as llama.cpp assumes.
            // Windows of a few tokens, so that the prompt runs well past them. gemma3: sliding, global, sliding (one
            // global layer in 2, local base 10⁴); gemma3-untied: one in 3 with a local base of 2·10⁴, both of which
            // llama.cpp must read from the file.
            "gemma3" => TinyModels.Gemma3(j =>
            {
                j["vocab_size"] = vocab; j["hidden_size"] = 64; j["head_dim"] = 32; j["query_pre_attn_scalar"] = 32;
                j["intermediate_size"] = 96; j["max_position_embeddings"] = 128; j["sliding_window"] = 4;
            }),
            "gemma3-untied" => TinyModels.Gemma3(j =>
            {
                j["vocab_size"] = vocab; j["hidden_size"] = 64; j["head_dim"] = 32; j["query_pre_attn_scalar"] = 32;
                j["intermediate_size"] = 96; j["max_position_embeddings"] = 128; j["sliding_window"] = 5;
                j["num_hidden_layers"] = 4; j["sliding_window_pattern"] = 3; j["rope_local_base_freq"] = 20_000.0;
                j["tie_word_embeddings"] = false;
            }),
            // sliding then global, soft-capped at 50 (attention) and 30 (logits)
            "gemma2" => TinyModels.Gemma2(j =>
            {
                j["vocab_size"] = vocab; j["hidden_size"] = 64; j["head_dim"] = 32; j["query_pre_attn_scalar"] = 32;
                j["intermediate_size"] = 96; j["max_position_embeddings"] = 128; j["sliding_window"] = 4;
            }),
            // Phi-3: fused projections; RoPE on half of each head (8 of 16 channels), or on 12 with a tied head (as
            // Phi-4-mini's 0.75); phi3-window has a sliding window shorter than the context
            "phi3" or "phi3-window" => TinyModels.Phi3(j =>
            {
                j["vocab_size"] = vocab; j["hidden_size"] = 64; j["intermediate_size"] = 96; j["max_position_embeddings"] = 128;
                if (variant == "phi3-window") j["sliding_window"] = 48;
            }),
            "phi3-tied" => TinyModels.Phi3(j =>
            {
                j["vocab_size"] = vocab; j["hidden_size"] = 64; j["intermediate_size"] = 96; j["max_position_embeddings"] = 128;
                j["partial_rotary_factor"] = 0.75; j["tie_word_embeddings"] = true;
            }),
            _ => throw new ArgumentException(variant),
        };
        config = config with { InitializerRange = 0.2, EosTokenIds = [0], BosTokenId = 0, PadTokenId = 0 };
        var dir = TempFolder.Fresh();
        using (var model = TinyModels.Random(config, seed)) model.Save(dir);
        bpe.Save(dir, new TokenizerConfig
        {
            BosToken = "<|endoftext|>", EosToken = "<|endoftext|>", PadToken = "<|endoftext|>", ChatTemplate = ChatTemplate.ChatMl.Jinja,
        });
        return dir;
    }
}
