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
        ["llama"], ["llama-tied"], ["qwen2"], ["mistral"], ["gpt2"],
    ];

    public static ModelConfig ByName(string name) => name switch
    {
        "llama" => Llama(),
        "llama-tied" => Llama(tied: true),
        "qwen2" => Llama(type: "qwen2"),
        "mistral" => Llama(type: "mistral"),
        "gpt2" => Gpt2(),
        _ => throw new ArgumentException(name),
    };

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
        int hidden = model.Config.HiddenSize;
        foreach (var (name, p) in model.Module.named_parameters())
        {
            if (name.Contains("q_proj") || name.Contains("k_proj")) p.mul_(factor);
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
