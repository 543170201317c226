using FineTune.Kit.Explain;
using FineTune.Kit.Tests.Models;

namespace FineTune.Kit.Tests.Explain;

public class ModelExplainerTests
{
    private const string Text = "my parcel never arrived";

    [Fact]
    public void Exact_and_kernel_shap_on_a_real_model_add_up_to_the_change_in_log_probability()
    {
        using var model = TinyTokenized.Llama();
        var exact = model.Explain(Text, " refund", new ExplainOptions { Method = ExplainMethod.Exact, Suffix = "\nIntent:" });
        Assert.Equal(4, exact.Features.Count);                        // words, sub-word tokens grouped
        Assert.True(Math.Abs(exact.EfficiencyGap) < 1e-4, $"gap {exact.EfficiencyGap}");
        // f(x) is the model's own log-probability of the target after the full prompt
        var direct = model.ContinuationLogProbs(Text + "\nIntent:", [" refund"]);
        Assert.Equal(direct[0], exact.FullValue, 3);
        var shap = model.Explain(Text, " refund", new ExplainOptions { Method = ExplainMethod.Shap, Suffix = "\nIntent:", Samples = 64 });
        Assert.True(Math.Abs(shap.EfficiencyGap) < 1e-4);
        // the budget covers all 16 coalitions, so KernelSHAP equals exact Shapley
        for (int i = 0; i < exact.Values.Length; i++) Assert.Equal(exact.Values[i], shap.Values[i], 4);
        Assert.Contains("absent tokens replaced by", exact.ToJson());
    }

    [Fact]
    public void Integrated_gradients_on_the_embeddings_are_complete_within_one_percent()
    {
        using var model = TinyTokenized.Llama(seed: 3);
        var ig = model.Explain(Text, " refund", new ExplainOptions { Method = ExplainMethod.IntegratedGradients, Steps = 64 });
        double change = ig.FullValue - ig.BaseValue;
        Assert.True(Math.Abs(ig.EfficiencyGap) <= 0.01 * Math.Abs(change) + 1e-6, $"sum {ig.Sum} vs change {change}");
    }

    [Fact]
    public void Attention_maps_are_row_stochastic_and_the_logit_lens_ends_at_the_models_prediction()
    {
        using var model = TinyTokenized.Llama();
        var (tokens, weights) = model.AttentionMaps(Text);
        Assert.Equal(model.Config.NumLayers, weights.Length);
        Assert.True(AttentionMaps.CheckRowSums(weights, 1e-5).Ok);
        Assert.Equal(tokens.Count, weights[0][0].Length);
        var lens = model.LogitLens(Text, " refund");
        Assert.Equal(model.Config.NumLayers + 1, lens.Layers.Count);
        double p = Math.Exp(model.ContinuationLogProbs(model.RequireTokenizer().Encode(Text).Select(i => (long)i).ToArray(),
            [[model.RequireTokenizer().Encode(" refund")[0]]])[0]);
        Assert.Equal(p, lens.Layers[^1].TargetProbability, 4);
    }
}
