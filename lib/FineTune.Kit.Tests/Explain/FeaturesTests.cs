using FineTune.Kit.Explain;

namespace FineTune.Kit.Tests.Explain;

public class FeaturesTests
{
    private const string Text = "Unbelievable results, isn't it?";

    private static readonly TokenSpan[] Tokens =
    [
        new("<s>", 0, 0), new("Un", 0, 2), new("believ", 2, 8), new("able", 8, 12), new(" results", 12, 20),
        new(",", 20, 21), new(" isn", 21, 25), new("'t", 25, 27), new(" it", 27, 30), new("?", 30, 31),
    ];

    [Fact]
    public void Words_group_sub_word_tokens_and_keep_punctuation_apart()
    {
        var f = FeatureSet.FromWords(Text, Tokens);
        Assert.Equal(new[] { "Unbelievable", "results", ",", "isn't", "it", "?" }, f.Names);
        Assert.Equal(new[] { 1, 2, 3 }, f[0].Tokens);
        Assert.Equal(new[] { 6, 7 }, f[3].Tokens);
        Assert.Equal(-1, f.FeatureOfToken(0));
    }

    [Fact]
    public void Token_masks_keep_uncovered_tokens_and_follow_the_coalition()
    {
        var f = FeatureSet.FromWords(Text, Tokens);
        var mask = f.TokenMask([false, true, true, false, true, true]);
        Assert.Equal(new[] { true, false, false, false, true, true, false, false, true, true }, mask);
    }

    [Fact]
    public void A_token_straddling_two_words_joins_them()
    {
        var tokens = new TokenSpan[] { new("ab", 0, 2), new("c d", 2, 5), new("e", 5, 6) };
        var f = FeatureSet.FromWords("abc de", tokens);
        Assert.Equal(new[] { "abc de" }, f.Names);
        Assert.Equal(new[] { 0, 1, 2 }, f[0].Tokens);
    }

    [Fact]
    public void Tokens_and_spans()
    {
        var tokens = FeatureSet.FromTokens(Text, Tokens);
        Assert.Equal(9, tokens.Count);
        Assert.Equal(" results", tokens[3].Text);

        var spans = FeatureSet.FromSpans(Text, Tokens, [(0, 21), (21, 31)]);
        Assert.Equal(new[] { "Unbelievable results,", " isn't it?" }, spans.Names);
        Assert.Equal(new[] { 1, 2, 3, 4, 5 }, spans[0].Tokens);

        var e = Assert.ThrowsAny<ArgumentException>(() => FeatureSet.FromSpans(Text, Tokens, [(0, 5), (5, 31)]));
        Assert.Contains("Token 2", e.Message);
        Assert.ThrowsAny<ArgumentException>(() => FeatureSet.FromSpans(Text, Tokens, [(0, 12), (10, 20)]));
        Assert.ThrowsAny<ArgumentException>(() => FeatureSet.FromWords(Text, [new("x", 30, 40)]));
    }

    [Fact]
    public void Lifted_value_functions_see_token_masks()
    {
        var f = FeatureSet.FromWords(Text, Tokens);
        var seen = new List<bool[]>();
        CoalitionValue tokenValue = masks => { seen.AddRange(masks); return masks.Select(m => (double)m.Count(b => b)).ToArray(); };
        var a = new Occlusion().Explain(f, f.OverTokens(tokenValue));
        Assert.All(seen, m => Assert.Equal(10, m.Length));
        Assert.Equal(3, a.Values[0]);   // "Unbelievable" covers three tokens
        Assert.Equal(1, a.Values[1]);
    }
}
