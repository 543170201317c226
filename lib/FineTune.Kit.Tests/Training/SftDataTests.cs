using FineTune.Kit.Evaluation;
using FineTune.Kit.Prompting;
using FineTune.Kit.Tests.Models;
using FineTune.Kit.Training;
using FineTune.Kit.Data;

namespace FineTune.Kit.Tests.Training;

public class SftDataTests
{
    [Fact]
    public void Classification_rows_count_only_the_label_words_and_end_of_sequence()
    {
        var tok = TinyTokenized.Tokenizer();
        var template = new PromptTemplate().WithInputPrefix("Customer: ").WithOutputPrefix("Category:")
            .WithLabels(LabelVerbalizer.AsWords(["billing", "shipping_delay"]));
        var row = SftData.Classification([new LabeledExample("my parcel never arrived", "shipping_delay")], template, tok).Single();
        var prompt = tok.Encode("Customer: my parcel never arrived\nCategory:");
        var label = tok.Encode(" shipping delay");
        Assert.NotNull(tok.EosId);
        Assert.Equal([.. prompt.Select(i => (long)i), .. label.Select(i => (long)i), tok.EosId.Value], row.Ids);
        Assert.Equal([.. prompt.Select(_ => false), .. label.Select(_ => true), true], row.Loss);
    }

    [Fact]
    public void Completions_count_only_the_completion_and_end_of_sequence()
    {
        var tok = TinyTokenized.Tokenizer();
        var row = SftData.Completions([("Customer: I cannot log in\n\nAgent:", " I reset your password.")], tok).Single();
        var prompt = tok.Encode("Customer: I cannot log in\n\nAgent:");
        var completion = tok.Encode(" I reset your password.");
        Assert.Equal([.. prompt.Select(i => (long)i), .. completion.Select(i => (long)i), tok.EosId!.Value], row.Ids);
        Assert.Equal(prompt.Count, row.Loss.TakeWhile(l => !l).Count());
        Assert.Equal(completion.Count + 1, row.Loss.Count(l => l));
    }
}
