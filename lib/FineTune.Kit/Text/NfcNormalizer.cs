using System.Text;
using Microsoft.ML.Tokenizers;

namespace FineTune.Kit.Text;

/// <summary>Unicode NFC normalization, for tokenizer.json files that declare an NFC normalizer (Qwen-style).</summary>
internal sealed class NfcNormalizer : Normalizer
{
    public override string Normalize(string original) => original.Normalize(NormalizationForm.FormC);
    public override string Normalize(ReadOnlySpan<char> original) => original.ToString().Normalize(NormalizationForm.FormC);
}
