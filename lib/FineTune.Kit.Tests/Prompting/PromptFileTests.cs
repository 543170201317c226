using FineTune.Kit.Prompting;
using FineTune.Kit.Tests.Models;

namespace FineTune.Kit.Tests.Prompting;

public class PromptFileTests
{
    private static readonly PromptTemplate Sample = new PromptTemplate().WithInputPrefix("Customer: ")
        .WithInputOutputSeparator("\n\n").WithOutputPrefix("Category:")
        .WithLabels(LabelVerbalizer.AsWords(["shipping_delay", "billing", "café"]).Map("billing", " money"));

    private static void AssertSame(PromptTemplate expected, PromptTemplate actual)
    {
        Assert.Equal(expected.Instruction, actual.Instruction);
        Assert.Equal(expected.InputPrefix, actual.InputPrefix);
        Assert.Equal(expected.InputOutputSeparator, actual.InputOutputSeparator);
        Assert.Equal(expected.OutputPrefix, actual.OutputPrefix);
        Assert.Equal(expected.ExampleSeparator, actual.ExampleSeparator);
        Assert.Equal(expected.Verbalizer.Labels, actual.Verbalizer.Labels);
        Assert.Equal(expected.Verbalizer.Continuations, actual.Verbalizer.Continuations);
    }

    [Fact]
    public void A_template_survives_the_round_trip_through_prompt_json_with_its_label_order()
    {
        var dir = TempFolder.Fresh();
        Assert.Null(PromptFile.TryLoad(dir));
        PromptFile.Save(Sample, dir);
        Assert.Equal(["prompt.json"], Directory.GetFiles(dir).Select(Path.GetFileName));   // no temporary file left behind
        var loaded = PromptFile.Load(dir);
        AssertSame(Sample, loaded);
        Assert.Equal(Sample.RenderWithLabel("where is my parcel", "billing"), loaded.RenderWithLabel("where is my parcel", "billing"));
        var instructed = PromptTemplate.WithInstruction("Classify.\tNow.").WithLabels("a", "b");
        AssertSame(instructed, PromptTemplate.FromJson(instructed.ToJson()));
    }

    [Fact]
    public void The_json_is_readable_and_names_each_part()
    {
        var json = Sample.ToJson();
        Assert.Contains("\"input_prefix\": \"Customer: \"", json);
        Assert.Contains("\"input_output_separator\": \"\\n\\n\"", json);
        Assert.Contains("\"shipping_delay\": \" shipping delay\"", json);
        Assert.Contains("\"café\": \" café\"", json);                       // not escaped as \u00E9
    }

    [Fact]
    public void Missing_parts_take_the_defaults_and_bad_files_name_themselves()
    {
        var minimal = PromptTemplate.FromJson("""{"output_prefix": "Intent:"}""");
        AssertSame(new PromptTemplate().WithOutputPrefix("Intent:"), minimal);

        var e = Assert.Throws<DataFormatException>(() => PromptTemplate.FromJson("""{"input_prefx": "x"}""", "a/prompt.json"));
        Assert.Equal("a/prompt.json: unknown key \"input_prefx\" (known: instruction, input_prefix, input_output_separator, output_prefix, example_separator, labels).", e.Message);
        e = Assert.Throws<DataFormatException>(() => PromptTemplate.FromJson("""{"instruction": 3}""", "p"));
        Assert.Equal("p: \"instruction\" must be a string.", e.Message);
        e = Assert.Throws<DataFormatException>(() => PromptTemplate.FromJson("""{"labels": ["a"]}""", "p"));
        Assert.StartsWith("p: \"labels\" must be an object", e.Message);
        e = Assert.Throws<DataFormatException>(() => PromptTemplate.FromJson("""{"labels": {"a": " x", "b": " x"}}""", "p"));
        Assert.Contains("are both verbalised as \" x\"", e.Message);
        e = Assert.Throws<DataFormatException>(() => PromptTemplate.FromJson("[1", "p"));
        Assert.StartsWith("p: not ", e.Message);

        var dir = TempFolder.Fresh();
        File.WriteAllText(Path.Combine(dir, "prompt.json"), "{\"instruction\": null}");
        e = Assert.Throws<DataFormatException>(() => PromptFile.TryLoad(dir));
        Assert.StartsWith(Path.Combine(dir, "prompt.json") + ": ", e.Message);
        Assert.Throws<FileNotFoundException>(() => PromptFile.Load(TempFolder.Fresh()));
    }
}
