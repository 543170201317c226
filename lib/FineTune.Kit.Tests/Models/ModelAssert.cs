using FineTune.Kit.Models;

namespace FineTune.Kit.Tests.Models;

/// <summary>The checks the model tests share: logits against the naive reference, and cached against recomputed generation.</summary>
internal static class ModelAssert
{
    /// <summary>
    /// Asserts that the model's logits equal <see cref="ReferenceForward"/>'s at every position and vocabulary entry, within
    /// max(<paramref name="absolute"/>, <paramref name="relative"/> · |expected|); returns the model's logits.
    /// </summary>
    public static float[][] MatchesReference(CausalLM model, long[] ids, double absolute = 1e-4, double relative = 0, string what = "")
    {
        var expected = ReferenceForward.Logits(model, ids);
        var actual = model.Logits(ids);
        for (int t = 0; t < ids.Length; t++)
            for (int v = 0; v < model.Config.VocabSize; v++)
                Assert.True(Math.Abs(expected[t][v] - actual[t][v]) < Math.Max(absolute, relative * Math.Abs(expected[t][v])),
                    $"{what} t={t} v={v}: {expected[t][v]} vs {actual[t][v]}");
        return actual;
    }

    /// <summary>
    /// Asserts that greedy generation with the KV cache equals recomputing every step, gives <paramref name="newTokens"/>
    /// tokens per prompt, and that each row of the (left-padded) batch equals generating that prompt alone.
    /// </summary>
    public static void CachedGenerationEqualsRecomputation(CausalLM model, IReadOnlyList<IReadOnlyList<long>> prompts, int newTokens)
    {
        var cached = model.Generate(prompts, new GenerationOptions { MaxNewTokens = newTokens });
        var recomputed = model.Generate(prompts, new GenerationOptions { MaxNewTokens = newTokens, UseCache = false });
        Assert.Equal(recomputed, cached);
        Assert.All(cached, r => Assert.Equal(newTokens, r.Length));
        for (int i = 0; i < prompts.Count; i++)
            Assert.Equal(cached[i], model.Generate([prompts[i]], new GenerationOptions { MaxNewTokens = newTokens })[0]);
    }

    /// <summary>The largest absolute difference between two rows of logits.</summary>
    public static double MaxDifference(float[] a, float[] b) => a.Zip(b, (x, y) => (double)Math.Abs(x - y)).Max();

    /// <summary>The largest absolute difference between two sets of rows.</summary>
    public static double MaxDifference(float[][] a, float[][] b) => a.Zip(b, MaxDifference).Max();
}
