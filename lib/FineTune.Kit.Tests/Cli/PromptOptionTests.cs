using System.CommandLine;
using System.Text.Json.Nodes;
using FineTune.Kit.Cli.Commands;
using FineTune.Kit.Evaluation;
using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Prompting;
using FineTune.Kit.Tests.Models;
using FineTune.Kit.Data;

namespace FineTune.Kit.Tests.Cli;

public class PromptOptionsTests
{
    private static PromptTemplate Build(string[] labels, params string[] args)
    {
        var options = new PromptOptions();
        var command = new RootCommand();
        foreach (var o in options.All) command.Options.Add(o);
        var parse = command.Parse(args);
        Assert.Empty(parse.Errors);
        return options.Build(parse, labels);
    }

    [Fact]
    public void Backslash_escapes_are_read_and_unknown_ones_are_refused()
    {
        Assert.Equal("a\nb\tc\\d", PromptOptions.Unescape(@"a\nb\tc\\d", "--x"));
        Assert.Equal("\n\n", PromptOptions.Unescape(@"\n\n", "--x"));
        Assert.Equal(@"\n", PromptOptions.Unescape(@"\\n", "--x"));           // an escaped backslash, then a plain n
        Assert.Equal("Customer: ", PromptOptions.Unescape("Customer: ", "--x"));
        var e = Assert.Throws<ArgumentException>(() => PromptOptions.Unescape(@"C:\data", "--instruction"));
        Assert.Equal(@"--instruction: ""C:\data"" has the unknown escape \d (known: \n, \t, \\)", e.Message);
        e = Assert.Throws<ArgumentException>(() => PromptOptions.Unescape(@"ends\", "--separator"));
        Assert.StartsWith("--separator: ", e.Message);
        Assert.Equal(@"a\nb\tc\\d", PromptOptions.Escape("a\nb\tc\\d"));
    }

    [Fact]
    public void The_defaults_are_the_instruction_prompt_compare_always_used()
    {
        var t = Build(["shipping_delay", "refund"]);
        var before = PromptTemplate.WithInstruction("Classify the text.").WithInputPrefix("Text: ").WithOutputPrefix("Label:")
            .WithLabels(LabelVerbalizer.AsWords(["shipping_delay", "refund"]));
        Assert.Equal("Classify the text.\n\nText: my parcel\nLabel:", t.Render("my parcel"));
        Assert.Equal(before.RenderWithLabel("my parcel", "shipping_delay"), t.RenderWithLabel("my parcel", "shipping_delay"));
        Assert.Equal(before.ExampleSeparator, t.ExampleSeparator);
        Assert.Equal([" shipping delay", " refund"], t.Verbalizer.Continuations);
    }

    [Fact]
    public void The_sample_format_renders_exactly_from_the_options()
    {
        var t = Build(["shipping_delay", "billing"],
            "--instruction", "", "--input-prefix", "Customer: ", "--separator", @"\n\n", "--output-prefix", "Category:");
        var shots = new[] { new LabeledExample("charged twice", "billing") };
        Assert.Equal("Customer: charged twice\n\nCategory: billing\n\nCustomer: where is it\n\nCategory: shipping delay",
            t.RenderWithLabel("where is it", "shipping_delay", shots));
        var expected = new PromptTemplate().WithInputPrefix("Customer: ").WithInputOutputSeparator("\n\n").WithOutputPrefix("Category:");
        Assert.Equal(expected.Render("x"), t.Render("x"));

        var identity = Build(["shipping_delay"], "--labels-as", "identity", "--instruction", @"Sort the ticket.\tThen stop.");
        Assert.Equal("Sort the ticket.\tThen stop.\n\nText: x\nLabel: shipping_delay", identity.RenderWithLabel("x", "shipping_delay"));
        Assert.Equal("prompt \"Sort the ticket.\\tThen stop.\\n\\nText: {text}\\nLabel:\" + \" shipping_delay\"", PromptOptions.Describe(identity));
    }
}

public class ComparePromptTests
{
    private static JsonArray Compare(string[] args, out string err)
    {
        var (exit, output, e) = CliRunner.Run(["compare", .. args, "--json", "--resamples", "50"]);
        err = e;
        Assert.True(exit == 0, e + output);
        return JsonNode.Parse(output)!["approaches"]!.AsArray();
    }

    private static double MeanPromptTokens(CausalLM model, PromptTemplate template, IEnumerable<LabeledExample> test)
    {
        var classifier = model.Classifier(template);
        return test.Average(e => classifier.Classify(e.Text).PromptTokens);
    }

    [Fact]
    public void An_adapter_is_prompted_with_its_prompt_json_and_explicit_options_replace_parts_of_it_with_a_note()
    {
        var dir = CliData.SavedTinyModel();
        var adapterDir = TempFolder.Fresh();
        using (var m = CausalLM.Load(dir)) m.AddLora(r: 2, targets: ["q_proj", "v_proj"]).Save(adapterDir);
        var trained = PromptTemplate.WithInstruction("Read the customer's message below and decide which queue it belongs in.")
            .WithInputPrefix("Customer: ").WithInputOutputSeparator("\n\n").WithOutputPrefix("Category:")
            .WithLabels(LabelVerbalizer.AsWords(["refund", "shipping_delay"]));
        PromptFile.Save(trained, adapterDir);
        var test = CliData.Tickets(6);
        var data = CliData.Jsonl(test.Select(t => new JsonObject { ["text"] = t.Text, ["label"] = t.Label }));
        var defaults = PromptTemplate.WithInstruction("Classify the text.").WithInputPrefix("Text: ").WithOutputPrefix("Label:")
            .WithLabels(LabelVerbalizer.AsWords(["refund", "shipping_delay"]));

        using var model = CausalLM.Load(dir);
        var rows = Compare(["--model", dir, "--adapter", adapterDir, "--data", data, "--shots", "0"], out var err);
        Assert.Equal(["zero-shot", "LoRA r=2"], rows.Select(r => r!["name"]!.GetValue<string>()));
        Assert.Equal(MeanPromptTokens(model, defaults, test), rows[0]!["prompt_tokens"]!.GetValue<double>(), 6);
        Assert.Equal(MeanPromptTokens(model, trained, test), rows[1]!["prompt_tokens"]!.GetValue<double>(), 6);
        Assert.NotEqual(rows[0]!["prompt_tokens"]!.GetValue<double>(), rows[1]!["prompt_tokens"]!.GetValue<double>());
        // a fresh adapter changes nothing, so it scores like the base model prompted with the adapter's template
        var expected = model.Classifier(trained);
        Assert.Equal(test.Average(e => expected.Classify(e.Text).Label == e.Label ? 1.0 : 0.0), rows[1]!["accuracy"]!.GetValue<double>(), 9);
        Assert.Equal($"ftk compare: note: {adapterDir}: prompting with its prompt.json", err.Trim());

        rows = Compare(["--model", dir, "--adapter", adapterDir, "--data", data, "--shots", "0",
            "--instruction", "", "--separator", @"\n\n", "--labels-as", "words"], out err);
        var overridden = trained with { Instruction = "" };
        Assert.Equal(MeanPromptTokens(model, overridden, test), rows[1]!["prompt_tokens"]!.GetValue<double>(), 6);
        var notes = err.Trim().Split('\n');
        Assert.Equal(2, notes.Length);                                      // an option equal to the saved part is no change
        Assert.Equal($"ftk compare: note: {adapterDir}: --instruction \"\" replaces \"{trained.Instruction}\"", notes[1]);
    }

    [Fact]
    public void Prompt_options_are_refused_with_saved_predictions()
    {
        var (exit, _, err) = CliRunner.Run("compare", "--test", "t.jsonl", "--approach", "a=p.jsonl", "--input-prefix", "Customer: ");
        Assert.Equal(1, exit);
        Assert.Contains("apply with --model only", err);
    }
}

/// <summary>A tiny model folder with its tokenizer, and ticket rows to train or test on.</summary>
internal static class CliData
{
    internal static string SavedTinyModel()
    {
        var dir = TempFolder.Fresh();
        using var model = TinyTokenized.Llama();
        model.Save(dir, extraFiles: d => new FineTune.Kit.Text.BpeTrainer().VocabSize(300).SpecialTokens("<|endoftext|>")
            .Train(["my parcel never arrived and the tracking page is empty", "please refund the double charge on my card",
                    "the thermostat shows error E42 after the update", "I cannot log in, the password reset email never arrives",
                    "great service, the driver was friendly"]).Save(d));
        return dir;
    }

    internal static LabeledExample[] Tickets(int n) => Enumerable.Range(0, n)
        .Select(i => i % 2 == 0 ? new LabeledExample($"my parcel {i} never arrived", "shipping_delay") : new LabeledExample($"refund the charge {i}", "refund"))
        .ToArray();

    internal static string Jsonl(IEnumerable<JsonObject> rows)
    {
        var file = Path.Combine(TempFolder.Fresh(), "rows.jsonl");
        File.WriteAllLines(file, rows.Select(r => r.ToJsonString()));
        return file;
    }
}
