using FineTune.Kit.Text;

namespace FineTune.Kit.Tests.Text;

public class BpeTrainerTests
{
    [Fact]
    public void FirstMergesOnTinyCorpusAreTheHandDerivedOnes()
    {
        // Pre-tokens: "aaab", "Ġaaab", "Ġab". Pair counts: (a,a)=4, (a,b)=3, (Ġ,a)=2 -> "a a".
        // Then (a,b)=3 beats (aa,a)=2 -> "a b"; then (aa,ab)=2 -> "aa ab"; every other pair occurs once.
        var model = new BpeTrainer().VocabSize(1000).MinFrequency(2).Train(["aaab aaab ab"]);
        Assert.Equal([("a", "a"), ("a", "b"), ("aa", "ab")], model.Merges);
        Assert.Equal(256 + 3, model.VocabSize);
    }

    [Fact]
    public void TiesGoToTheOrdinallySmallestPair()
    {
        // Every pair occurs once: (a,b), (Ġ,c), (c,d). 'a' < 'c' < 'Ġ' (U+0120), so a b, then c d, then Ġ cd.
        var model = new BpeTrainer().VocabSize(1000).MinFrequency(1).Train(["ab cd"]);
        Assert.Equal([("a", "b"), ("c", "d"), ("Ġ", "cd")], model.Merges);
    }

    [Fact]
    public void MinFrequencyStopsMerging()
    {
        var model = new BpeTrainer().VocabSize(1000).MinFrequency(5).Train(["aaab aaab ab"]);
        Assert.Empty(model.Merges);
    }

    [Fact]
    public void VocabSizeCapsTheNumberOfMerges()
    {
        var model = new BpeTrainer().VocabSize(256 + 2 + 3).SpecialTokens("<s>", "</s>").Train(TestCorpus.Lines);
        Assert.Equal(261, model.VocabSize);
        Assert.Equal(3, model.Merges.Count);
        Assert.Equal("<s>", model.Tokens[0]);
        Assert.Equal("</s>", model.Tokens[1]);
    }

    [Fact]
    public void SpecialTokensComeFirstThenTheSortedByteAlphabet()
    {
        var model = TestCorpus.Model;
        Assert.Equal(TestCorpus.Specials, model.Tokens.Take(3));
        var alphabet = model.Tokens.Skip(3).Take(256).ToList();
        Assert.Equal(alphabet.OrderBy(t => t, StringComparer.Ordinal), alphabet);
        Assert.Equal(256, alphabet.Distinct().Count());
    }

    [Fact]
    public void EveryMergedTokenIsTheConcatenationOfItsPair()
    {
        var model = TestCorpus.Model;
        foreach (var (left, right) in model.Merges)
            Assert.NotNull(model.TokenToId(left + right));
        // Tokens after the alphabet are exactly the merged strings, in the order they were first made.
        var firstMade = model.Merges.Select(m => m.Left + m.Right).Distinct().ToList();
        Assert.Equal(firstMade, model.Tokens.Skip(3 + 256));
    }

    [Fact]
    public void TrainingIsDeterministicToTheByte()
    {
        var a = TempFolder.Fresh();
        var b = TempFolder.Fresh();
        new BpeTrainer().VocabSize(500).SpecialTokens(TestCorpus.Specials).Train(TestCorpus.Lines).Save(a);
        new BpeTrainer().VocabSize(500).SpecialTokens(TestCorpus.Specials).Train(TestCorpus.Lines).Save(b);
        foreach (var f in new[] { "tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(a, f)), File.ReadAllBytes(Path.Combine(b, f)));
    }

    [Fact]
    public void OwnEncoderRoundTripsAwkwardText()
    {
        foreach (var text in TestCorpus.Awkward)
            Assert.Equal(text, TestCorpus.Model.Decode(TestCorpus.Model.Encode(text)));
    }

    [Fact]
    public void MergesCompressTheTrainingText()
    {
        var line = TestCorpus.Lines[0];
        Assert.True(TestCorpus.Model.Encode(line).Count < System.Text.Encoding.UTF8.GetByteCount(line) / 2);
    }

    [Fact]
    public void SpecialTokensInTextAreSingleIds()
    {
        var ids = TestCorpus.Model.Encode("<|im_start|>user");
        Assert.Equal(1, ids[0]);
        Assert.DoesNotContain(1, TestCorpus.Model.Encode("<|im_start"));
    }

    [Fact]
    public void TrainingOnAFileKeepsWindowsNewlinesAndMatchesTrainingOnItsText()
    {
        var path = Path.Combine(TempFolder.Fresh(), "corpus.txt");
        // Paragraphs separated by a blank line: GPT-2 pre-tokenization makes "\r\n\r" one word before the next "\n".
        File.WriteAllText(path, string.Concat(TestCorpus.Lines.Take(200).Select(l => l.TrimEnd('\n') + "\r\n\r\n")));
        var fromFile = new BpeTrainer().VocabSize(1000).TrainOnFile(path);
        var fromText = new BpeTrainer().VocabSize(1000).Train([File.ReadAllText(path)]);
        Assert.Equal(fromText.Merges, fromFile.Merges);
        Assert.Contains(("\u010D", "\u010A"), fromFile.Merges);   // "\r" and "\n" as byte-level symbols
    }

    [Fact]
    public void VocabularySmallerThanTheAlphabetIsRejected()
    {
        Assert.Throws<ArgumentException>(() => new BpeTrainer().VocabSize(100).Train(["x"]));
    }
}
