using FineTune.Kit.Sample;
using FineTune.Kit.Text;

namespace FineTune.Kit.Tests.Text;

public class CorpusAgreementTests
{
    [Fact]
    public void LibraryTokenizerAgreesWithTheReferenceEncoderOnSampleCorpusDocuments()
    {
        var dir = TempFolder.Fresh();
        var docs = SampleData.ReadCorpusDocuments(SampleData.EnsureCorpus(dir, seed: 5)).Take(400).ToList();
        var model = new BpeTrainer().VocabSize(1200).SpecialTokens(TestCorpus.Specials).Train(docs.Take(300));
        model.Save(Path.Combine(dir, "tok"));
        var tok = TextTokenizer.Load(Path.Combine(dir, "tok"));
        // Documents 300..399 were not seen in training, so rare words exercise partial merges too.
        foreach (var doc in docs)
        {
            var ids = tok.Encode(doc);
            Assert.Equal(model.Encode(doc), ids);
            Assert.Equal(doc, tok.Decode(ids));
        }
    }
}
