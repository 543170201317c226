using FineTune.Kit.Cli;
using FineTune.Kit.Sample;
using FineTune.Kit.Text;

namespace FineTune.Kit.Tests.Sample;

public class SampleCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o);
        Console.SetError(e);
        try { return (Program.Run(args), o.ToString(), e.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }

    [Fact]
    public void SampleThenTokenizerTrainWritesALoadableTokenizer()
    {
        using var tmp = new TempFolder();
        var dir = tmp.Path;
        var (code, _, err) = Run("sample", "--out", dir, "--seed", "3");
        Assert.True(code == 0, err);
        Assert.True(File.Exists(Path.Combine(dir, SampleData.CorpusFile)));

        // A smaller slice of the corpus keeps the test quick; the full corpus is exercised by the CLI itself.
        var slice = Path.Combine(dir, "slice.txt");
        File.WriteAllText(slice, string.Concat(File.ReadLines(Path.Combine(dir, SampleData.CorpusFile)).Take(4000).Select(l => l + "\n")));
        var tokDir = Path.Combine(dir, "tok");
        (code, var output, err) = Run("tokenizer", "train", "--corpus", slice, "--vocab-size", "800", "--out", tokDir);
        Assert.True(code == 0, err);
        Assert.Contains("800 tokens", output);

        var tok = TextTokenizer.Load(tokDir);
        Assert.Equal(800, tok.VocabSize);
        Assert.Equal(2, tok.EosId);   // ChatML: <|im_end|> ends a turn
        var doc = SampleData.ReadCorpusDocuments(slice).First();
        Assert.Equal(doc, tok.Decode(tok.Encode(doc)));
    }

    [Fact]
    public void ChatTemplateWithoutItsSpecialTokensIsAnError()
    {
        var corpus = Path.GetTempFileName();
        File.WriteAllText(corpus, "hello world");
        var (code, _, err) = Run("tokenizer", "train", "--corpus", corpus, "--out", corpus + ".tok", "--special", "<|endoftext|>");
        Assert.Equal(1, code);
        Assert.Contains("<|im_start|>", err);
    }

    [Fact]
    public void MissingCorpusIsOneLineOnStderr()
    {
        var (code, _, err) = Run("tokenizer", "train", "--corpus", "/nonexistent/corpus.txt", "--out", Path.GetTempPath());
        Assert.Equal(FineTune.Kit.Cli.Program.UsageError, code);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains("/nonexistent/corpus.txt", err);
    }
}
