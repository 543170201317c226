using FineTune.Kit.Explain;

namespace FineTune.Kit.Tests.Explain;

public class TextMaskingTests
{
    private static FeatureSet Words(string text)
    {
        // whitespace tokenizer with offsets: enough to exercise the masking
        var tokens = new List<TokenSpan>();
        for (int i = 0; i < text.Length;)
        {
            if (char.IsWhiteSpace(text[i])) { i++; continue; }
            int s = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i])) i++;
            tokens.Add(new TokenSpan(text[s..i], s, i));
        }
        return FeatureSet.FromWords(text, tokens);
    }

    [Fact]
    public void Dropped_words_leave_no_double_spaces()
    {
        // the whitespace tokenizer makes "great." one token, so word grouping keeps it one feature
        var f = Words("The film  was great.");
        Assert.Equal(new[] { "The", "film", "was", "great." }, f.Names);
        Assert.Equal("The was great.", TextMasking.Apply(f, [true, false, true, true]));    // the gap after a dropped word goes with it
        Assert.Equal("The film  great.", TextMasking.Apply(f, [true, true, false, true]));  // the gap before it stays as written
        Assert.Equal("film  was", TextMasking.Apply(f, [false, true, true, false]));
        Assert.Equal("", TextMasking.Apply(f, new bool[4]));
        Assert.Equal("The film  was great.", TextMasking.Apply(f, [true, true, true, true]));
    }

    [Fact]
    public void Replacement_keeps_the_layout()
    {
        var f = Words("The film was great.");
        Assert.Equal("The [MASK] was [MASK]", TextMasking.Apply(f, [true, false, true, false], "[MASK]"));
    }

    [Fact]
    public void A_text_scorer_becomes_a_coalition_value()
    {
        var f = Words("good not bad");
        var seen = new List<string>();
        double[] Score(IReadOnlyList<string> texts)
        {
            seen.AddRange(texts);
            return texts.Select(t => t.Contains("good") ? 1.0 : 0.0).ToArray();
        }
        var a = new ExactShapley().Explain(f, f.OverTexts(Score));
        Assert.Equal(new[] { 1.0, 0.0, 0.0 }, a.Values);
        Assert.Contains("good bad", seen);
        Assert.ThrowsAny<ArgumentException>(() => TextMasking.Apply(FeatureSet.Named("a"), [true]));
    }
}
