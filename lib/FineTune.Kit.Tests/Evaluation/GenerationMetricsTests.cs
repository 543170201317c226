using FineTune.Kit.Evaluation.Generation;

namespace FineTune.Kit.Tests.Evaluation;

public class GenerationMetricsTests
{
    [Fact]
    public void Exact_match_ignores_case_punctuation_and_articles()
    {
        Assert.Equal(1, AnswerMetrics.ExactMatch("The Cat!", "cat"));
        Assert.Equal(0, AnswerMetrics.ExactMatch("a cat sat", "cat"));
        Assert.Equal(1, AnswerMetrics.ExactMatch("Paris", "London", "paris."));
    }

    [Fact]
    public void Token_f1_matches_hand_computation()
    {
        // prediction tokens [cat, sat], gold [cat, sat, down]: P = 1, R = 2/3, F1 = 0.8
        Assert.Equal(0.8, AnswerMetrics.TokenF1("The cat sat.", "a cat sat down"), 12);
        // repeated tokens count as a multiset: [the] is dropped, [big big dog] vs [big dog]: common 2, P 2/3, R 1
        Assert.Equal(0.8, AnswerMetrics.TokenF1("big big dog", "the big dog"), 12);
        Assert.Equal(0, AnswerMetrics.TokenF1("yes", "no"));
        // the best gold answer counts
        Assert.Equal(1, AnswerMetrics.TokenF1("no", "yes", "No"), 12);
    }

    [Fact]
    public void Rouge_l_uses_the_longest_common_subsequence()
    {
        // LCS of [a b c d e] and [a x c e] is [a c e]: P = 3/5, R = 3/4
        var s = RougeL.Score("a b c d e", "a x c e");
        Assert.Equal(0.6, s.Precision, 12);
        Assert.Equal(0.75, s.Recall, 12);
        Assert.Equal(2 * 0.6 * 0.75 / (0.6 + 0.75), s.F, 12);
        // beta = 2 weighs recall: (1 + 4) P R / (R + 4 P)
        Assert.Equal(5 * 0.6 * 0.75 / (0.75 + 4 * 0.6), RougeL.Score("a b c d e", "a x c e", beta: 2).F, 12);
    }

    [Fact]
    public void Rouge_l_on_a_sentence_pair()
    {
        // "the cat sat on the mat" vs "the cat is on the mat": LCS = the cat on the mat (5 of 6)
        Assert.Equal(5.0 / 6, RougeL.Score("The cat sat on the mat.", "the cat is on the mat").F, 12);
        Assert.Equal(0, RougeL.Score("", "x").F);
    }

    [Fact]
    public void Lcs_is_order_sensitive()
    {
        Assert.Equal(1, RougeL.LongestCommonSubsequence(["a", "b"], ["b", "a"]));
        // the textbook pair ABCBDAB / BDCABA has an LCS of length 4 (e.g. BCBA)
        Assert.Equal(4, RougeL.LongestCommonSubsequence(["A", "B", "C", "B", "D", "A", "B"], ["B", "D", "C", "A", "B", "A"]));
    }

    [Fact]
    public void Bleu_applies_the_brevity_penalty()
    {
        // every n-gram of the 6-token candidate is in the 7-token reference: precisions 1, BP = exp(1 - 7/6)
        var s = Bleu.Sentence("the cat sat on the mat", ["the cat sat on the mat today"], smoothing: BleuSmoothing.None);
        Assert.All(s.Precisions, p => Assert.Equal(1.0, p, 12));
        Assert.Equal(Math.Exp(1 - 7.0 / 6), s.BrevityPenalty, 12);
        Assert.Equal(Math.Exp(1 - 7.0 / 6), s.Score, 12);
        // a candidate longer than the reference is not penalised
        Assert.Equal(1, Bleu.Sentence("the cat sat on the mat today", ["the cat sat on the mat"], smoothing: BleuSmoothing.None).BrevityPenalty);
    }

    [Fact]
    public void Bleu_clips_repeated_ngrams()
    {
        // Papineni et al.: "the" x7 against a reference with "the" twice -> unigram precision 2/7
        var s = Bleu.Corpus(["the the the the the the the"], [["the cat is on the mat"]], maxOrder: 1);
        Assert.Equal(2.0 / 7, s.Score, 12);
        // with two references the clip is the largest count in any one reference (3 here)
        var s2 = Bleu.Corpus(["the the the the the the the"], [["the cat is on the mat", "the the the dog"]], maxOrder: 1);
        Assert.Equal(3.0 / 7, s2.Precisions[0], 12);
    }

    [Fact]
    public void Corpus_bleu_pools_counts_over_sentences()
    {
        // sentence 1 matches fully (4,3,2,1 n-grams); sentence 2: unigrams 5/6, bigrams 3/5, trigrams 1/4, 4-grams 0/3
        var s = Bleu.Corpus(["a b c d", "a b c d e f"], [["a b c d"], ["a b c x e f"]]);
        Assert.Equal([9.0 / 10, 6.0 / 8, 3.0 / 6, 1.0 / 4], s.Precisions.Select(p => Math.Round(p, 12)));
        Assert.Equal(Math.Pow(0.9 * 0.75 * 0.5 * 0.25, 0.25), s.Score, 12);
        Assert.Equal(10, s.CandidateLength);
        Assert.Equal(10, s.ReferenceLength);
    }

    [Fact]
    public void Sentence_bleu_smoothing_rescues_a_missing_order()
    {
        var none = Bleu.Sentence("a b c d e f", ["a b c x e f"], smoothing: BleuSmoothing.None);
        Assert.Equal(0, none.Score);
        // add-one for n >= 2: 5/6, 4/6, 2/5, 1/4
        var addOne = Bleu.Sentence("a b c d e f", ["a b c x e f"], smoothing: BleuSmoothing.AddOne);
        Assert.Equal(Math.Pow(5.0 / 6 * 4.0 / 6 * 2.0 / 5 * 1.0 / 4, 0.25), addOne.Score, 12);
        // epsilon: the zero 4-gram count becomes 0.1 of 3
        var eps = Bleu.Sentence("a b c d e f", ["a b c x e f"], smoothing: BleuSmoothing.Epsilon);
        Assert.Equal(Math.Pow(5.0 / 6 * 3.0 / 5 * 1.0 / 4 * 0.1 / 3, 0.25), eps.Score, 12);
    }

    [Fact]
    public void Bleu_picks_the_closest_reference_length_and_the_shorter_on_ties()
    {
        // candidate of 4 tokens, references of 3 and 5 tokens: tie -> 3, no penalty
        var s = Bleu.Corpus(["a b c d"], [["a b c", "a b c d e"]], maxOrder: 1);
        Assert.Equal(3, s.ReferenceLength);
        Assert.Equal(1, s.BrevityPenalty);
    }

    [Fact]
    public void Perplexity_is_exp_of_mean_token_nll()
    {
        Assert.Equal(4, Perplexity.FromTokenNll([Math.Log(2), Math.Log(8)]), 10);
        // pooled: three tokens, exp((ln 2 + ln 8 + ln 4) / 3) = exp(ln 64 / 3) = 4
        Assert.Equal(4, Perplexity.FromSequences([[Math.Log(2), Math.Log(8)], [Math.Log(4)]]), 10);
        Assert.Throws<ArgumentException>(() => Perplexity.FromTokenNll([]));
        Assert.Throws<ArgumentException>(() => Perplexity.FromTokenNll([-1.0]));
    }
}
