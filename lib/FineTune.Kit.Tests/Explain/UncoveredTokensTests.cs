using FineTune.Kit.Explain;
using FineTune.Kit.Models;
using FineTune.Kit.Tests.Models;
using FineTune.Kit.Text;

namespace FineTune.Kit.Tests.Explain;

/// <summary>
/// Tokens that belong to no feature (spaces, when the tokenizer makes them tokens of their own) stay at their input
/// embedding along the gradient path, as the coalition methods keep them present, so completeness holds over the
/// features the user sees.
/// </summary>
public class UncoveredTokensTests
{
    // "a b" as three tokens of width 1: the space token belongs to no word
    private static readonly FeatureSet Words = FeatureSet.FromWords("a b", [new("a", 0, 1), new(" ", 1, 2), new("b", 2, 3)]);
    private static readonly double[] W = [1, 2, 3];

    // f(x) = Σ w_i x_i²: integrated gradients are exact for it (w_i (x_i² − b_i²) per dimension)
    private static ValueAndGradient[] Quadratic(IReadOnlyList<double[]> xs) =>
        xs.Select(x => new ValueAndGradient(x.Select((v, i) => W[i] * v * v).Sum(), x.Select((v, i) => 2 * W[i] * v).ToArray())).ToArray();

    [Fact]
    public void Integrated_gradients_hold_uncovered_tokens_at_the_input_by_hand()
    {
        double[] x = [1, 2, 3], b = [0, 0, 0];
        var a = new IntegratedGradients().Steps(4).Explain(x, b, Quadratic, InputLayout.Embeddings(Words, 1));
        Assert.Equal(new[] { "a", "b" }, a.Features);
        // f(x) = 1 + 8 + 27 = 36; the baseline keeps the space at its input: f = 2·2² = 8
        Assert.Equal(36, a.FullValue, 10);
        Assert.Equal(8, a.BaseValue, 10);
        Assert.Equal(1, a.Values[0], 10);
        Assert.Equal(27, a.Values[1], 10);
        Assert.Equal(0, a.EfficiencyGap, 10);
        Assert.Equal(0, a.Diagnostics["completeness_gap"], 10);
    }

    [Fact]
    public void Gradient_times_input_reports_its_gap_against_the_same_baseline()
    {
        double[] x = [1, 2, 3], b = [0, 0, 0];
        var a = new GradientTimesInput().Explain(x, b, Quadratic, InputLayout.Embeddings(Words, 1));
        // x_i · 2 w_i x_i = 2 and 54; the change is 36 − 8 = 28
        Assert.Equal(8, a.BaseValue, 10);
        Assert.Equal(new[] { 2.0, 54.0 }, a.Values.Select(v => Math.Round(v, 10)));
        Assert.Equal(56 - 28, a.Diagnostics["completeness_gap"], 10);
        Assert.Equal(a.EfficiencyGap, a.Diagnostics["completeness_gap"], 10);
    }

    [Fact]
    public void Integrated_gradients_on_a_model_with_space_tokens_add_up_over_the_words()
    {
        const string text = "my parcel never arrived";
        // byte-level BPE without a single merge: every byte is a token, so each space is a token outside every word
        var tok = new BpeTrainer().VocabSize(257).SpecialTokens("<|endoftext|>")
            .Train(["my parcel never arrived", "please refund the charge"]).ToTokenizer();
        var spans = tok.EncodeWithOffsets(text);
        Assert.Equal(text.Length, spans.Count);
        Assert.Equal(3, spans.Count(s => text.Substring(s.Start, s.Length) == " "));
        var cfg = ModelConfig.Llama(tok.VocabSize, 16, 2, 4, 2, 24, maxPositions: 128, tied: true);
        using var model = TinyModels.Random(cfg with { PadTokenId = 0, EosTokenIds = [0] }, seed: 5);
        model.Tokenizer = tok;

        var options = new ExplainOptions { Suffix = "\nIntent:" };
        var ig = model.Explain(text, " refund", options with { Method = ExplainMethod.IntegratedGradients, Steps = 128 });
        Assert.Equal(4, ig.Features.Count);
        double change = ig.FullValue - ig.BaseValue;
        Assert.True(Math.Abs(ig.Sum - change) <= 0.01 * Math.Abs(change), $"sum {ig.Sum} vs f(x) − f(baseline) {change}");

        // f(baseline) is the value with every word masked and the spaces present: the coalition methods' empty coalition
        var exact = model.Explain(text, " refund", options with { Method = ExplainMethod.Exact });
        Assert.Equal(exact.BaseValue, ig.BaseValue, 3);
        Assert.Equal(exact.FullValue, ig.FullValue, 3);
        var gxi = model.Explain(text, " refund", options with { Method = ExplainMethod.GradientTimesInput });
        Assert.Equal(exact.BaseValue, gxi.BaseValue, 3);
        Assert.Equal(gxi.EfficiencyGap, gxi.Diagnostics["completeness_gap"], 6);
    }
}
