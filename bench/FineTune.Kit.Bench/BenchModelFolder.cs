using FineTune.Kit.Models;
using FineTune.Kit.Text;

namespace FineTune.Kit.Bench;

/// <summary>
/// The model both engines run: a model folder as it is, or a preset shape with random weights saved to a folder with
/// a small byte-level BPE tokenizer, because the GGUF exporter reads the tokenizer from the model's folder. The
/// benchmark feeds token ids, so the tokenizer only has to be one llama.cpp accepts; its unused rows are padded.
/// </summary>
internal static class BenchModelFolder
{
    private static readonly string[] Corpus =
    [
        "my parcel never arrived and the tracking page is empty",
        "please refund the double charge on my card, it's been 12 days",
        "the thermostat shows error E42 after the update; I can't reset it",
    ];

    /// <summary>Writes a preset with random weights (seeded) and a tokenizer into <paramref name="directory"/>.</summary>
    public static void WritePreset(string preset, int seed, string directory)
    {
        using (var model = CausalLM.Create(ModelPresets.Get(preset), seed, device: "cpu")) model.Save(directory);
        new BpeTrainer().VocabSize(300).SpecialTokens("<|endoftext|>").Train(Corpus)
            .Save(directory, new TokenizerConfig { BosToken = "<|endoftext|>", EosToken = "<|endoftext|>" });
    }
}
