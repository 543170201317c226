using System.Text.Json.Nodes;
using FineTune.Kit.Models;
using FineTune.Kit.Prompting;
using FineTune.Kit.Tests.Models;
using FineTune.Kit.Training;

namespace FineTune.Kit.Tests.Cli;

public class TrainClassifierTests
{
    private static readonly PromptTemplate SampleFormat = new PromptTemplate().WithInputPrefix("Customer: ")
        .WithInputOutputSeparator("\n\n").WithOutputPrefix("Category:").WithLabels(LabelVerbalizer.AsWords(["refund", "shipping_delay"]));

    [Fact]
    public void Text_and_label_rows_train_a_classifier_on_the_label_tokens_and_save_its_prompt()
    {
        var dir = CliData.SavedTinyModel();
        var tickets = CliData.Tickets(6);
        var data = CliData.Jsonl(tickets.Select(t => new JsonObject { ["text"] = t.Text, ["label"] = t.Label }));
        var outDir = Path.Combine(TempFolder.Fresh(), "adapter");
        var (exit, output, err) = CliRunner.Run("train", "--model", dir, "--data", data, "--out", outDir, "--steps", "1",
            "--batch-size", "6", "--lora-dropout", "0", "--instruction", "", "--input-prefix", "Customer: ", "--separator", @"\n\n",
            "--output-prefix", "Category:");
        Assert.True(exit == 0, err + output);
        Assert.Contains("classification: 2 labels, loss on the label tokens only; " +
                        "prompt \"Customer: {text}\\n\\nCategory:\" + \" refund\" | \" shipping delay\"", output);
        Assert.Contains("(with prompt.json)", output);

        var saved = PromptFile.Load(outDir);
        Assert.Equal(SampleFormat.RenderWithLabel("my parcel", "shipping_delay"), saved.RenderWithLabel("my parcel", "shipping_delay"));
        Assert.Equal(SampleFormat.Verbalizer.Continuations, saved.Verbalizer.Continuations);

        using var model = CausalLM.Load(dir);
        var tok = model.RequireTokenizer();
        var sequences = SftData.Classification(tickets, saved, tok);
        for (var i = 0; i < tickets.Length; i++)
        {
            var counted = sequences[i].Ids.Where((_, t) => sequences[i].Loss[t]).Select(id => (int)id).ToList();
            int[] eos = tok.EosId is { } e ? [e] : [];
            Assert.Equal([.. tok.Encode(saved.Verbalizer.Verbalize(tickets[i].Label)), .. eos], counted);
            Assert.Equal(tok.Encode(saved.Render(tickets[i].Text)).Count, sequences[i].Loss.Count(l => !l));
        }
        // the adapter starts at zero, so the first step's loss is the base model's loss on exactly those tokens
        var history = TrainingHistory.FromJson(File.ReadAllText(Path.Combine(outDir, "history.json")));
        Assert.Equal(Trainer.LossPerToken(model, sequences), history.Steps[0].Loss, 4);
        var allTokens = SftData.FromDataset(FineTune.Kit.Data.Dataset.Load(data), tok);
        Assert.NotEqual(Trainer.LossPerToken(model, allTokens), history.Steps[0].Loss, 2);
    }

    [Fact]
    public void Some_rows_labelled_and_some_not_is_an_error_naming_the_file_and_line()
    {
        var dir = CliData.SavedTinyModel();
        var data = CliData.Jsonl(CliData.Tickets(4).Select((t, i) => i == 2 ? new JsonObject { ["text"] = t.Text }
            : new JsonObject { ["text"] = t.Text, ["label"] = t.Label }));
        var outDir = Path.Combine(TempFolder.Fresh(), "adapter");
        var (exit, output, err) = CliRunner.Run("train", "--model", dir, "--data", data, "--out", outDir, "--steps", "1");
        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.Equal($"ftk train: {data}:3: the row has no \"label\", but line 1 has one; " +
                     "label every row to train a classifier, or none to train on the text alone", err.Trim());
        Assert.False(Directory.Exists(outDir));

        var folder = TempFolder.Fresh();
        File.Copy(CliData.Jsonl(CliData.Tickets(4).Select(t => new JsonObject { ["text"] = t.Text, ["label"] = t.Label })), Path.Combine(folder, "train.jsonl"));
        File.Copy(CliData.Jsonl(CliData.Tickets(2).Select(t => new JsonObject { ["text"] = t.Text })), Path.Combine(folder, "validation.jsonl"));
        (exit, _, err) = CliRunner.Run("train", "--model", dir, "--data", folder, "--out", outDir, "--steps", "1");
        Assert.Equal(1, exit);
        Assert.Contains($"{Path.Combine(folder, "validation.jsonl")}:1: the row has no \"label\"", err);
    }

    [Fact]
    public void Text_rows_without_labels_still_train_on_every_token_and_write_no_prompt()
    {
        var dir = CliData.SavedTinyModel();
        var data = CliData.Jsonl(CliData.Tickets(4).Select(t => new JsonObject { ["text"] = t.Text }));
        var outDir = Path.Combine(TempFolder.Fresh(), "adapter");
        var (exit, output, err) = CliRunner.Run("train", "--model", dir, "--data", data, "--out", outDir, "--steps", "1",
            "--batch-size", "4", "--lora-dropout", "0", "--output-prefix", "Category:");
        Assert.True(exit == 0, err + output);
        Assert.DoesNotContain("classification", output);
        Assert.Contains("the prompt options are not used", err);
        Assert.False(File.Exists(Path.Combine(outDir, "prompt.json")));
        using var model = CausalLM.Load(dir);
        var history = TrainingHistory.FromJson(File.ReadAllText(Path.Combine(outDir, "history.json")));
        Assert.Equal(Trainer.LossPerToken(model, SftData.FromDataset(FineTune.Kit.Data.Dataset.Load(data), model.RequireTokenizer())),
            history.Steps[0].Loss, 4);
    }

    [Fact]
    public void Examples_cut_before_their_label_are_counted_in_a_note()
    {
        var dir = CliData.SavedTinyModel();
        var tickets = CliData.Tickets(6).Select((t, i) => i < 2 ? t with { Text = string.Join(" ", Enumerable.Repeat(t.Text, 6)) } : t).ToArray();
        var data = CliData.Jsonl(tickets.Select(t => new JsonObject { ["text"] = t.Text, ["label"] = t.Label }));
        using var model = CausalLM.Load(dir);
        var defaults = PromptTemplate.WithInstruction("Classify the text.").WithInputPrefix("Text: ").WithOutputPrefix("Label:")
            .WithLabels(LabelVerbalizer.AsWords(["refund", "shipping_delay"]));
        var sequences = SftData.Classification(tickets, defaults, model.RequireTokenizer());
        var seqLen = sequences.Skip(2).Max(e => e.Ids.Length);
        var cut = sequences.Count(e => e.Truncate(seqLen).LossTokens == 0);
        Assert.Equal(2, cut);
        var outDir = Path.Combine(TempFolder.Fresh(), "adapter");
        var (exit, output, err) = CliRunner.Run("train", "--model", dir, "--data", data, "--out", outDir, "--steps", "1",
            "--batch-size", "6", "--seq-len", seqLen.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(exit == 0, err + output);
        Assert.Contains($"ftk train: note: 2 examples had no token left to learn from after cutting to --seq-len {seqLen} and were left out", err);
    }
}
