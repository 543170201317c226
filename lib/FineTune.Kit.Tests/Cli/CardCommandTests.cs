using System.Text.Json.Nodes;
using FineTune.Kit.Tests.Audit;
using FineTune.Kit.Tests.Serving;
using YamlDotNet.RepresentationModel;

namespace FineTune.Kit.Tests.Cli;

public class CardCommandTests
{
    /// <summary>Support tickets of two kinds, varied enough that curation keeps most of them.</summary>
    private static string RawTickets(string path)
    {
        string[] things = ["router", "camera", "thermostat", "doorbell", "speaker", "app", "hub", "sensor", "plug", "lamp"];
        string[] towns = ["Arnhem", "Bergen", "Cork", "Dijon", "Essen", "Faro"];
        var lines = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            var thing = things[i % things.Length];
            var town = towns[i / things.Length % towns.Length];
            var (text, label) = i % 2 == 0
                ? ($"my {thing} order {1000 + i * 7} to {town} never arrived", "shipping")
                : ($"the {thing} bought in {town} was charged twice, invoice {2000 + i * 13}", "billing");
            lines.Add(new JsonObject { ["text"] = text, ["label"] = label }.ToJsonString());
        }
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void Card_reads_what_curate_train_and_compare_wrote_and_merge_and_export_write_one_too()
    {
        var model = TinyExportModels.Folder("llama");
        using var tmp = new TempFolder();
        var (exit, _, err) = CliRunner.Run("curate", "--data", RawTickets(tmp["raw.jsonl"]), "--out", tmp["curated"], "--stratify", "label");
        Assert.True(exit == 0, err);
        (exit, _, err) = CliRunner.Run("train", "--model", model, "--data", tmp["curated"], "--out", tmp["adapter"], "--steps", "3", "--batch-size", "4", "--device", "cpu");
        Assert.True(exit == 0, err);
        Assert.True(File.Exists(tmp["adapter/trainer_settings.json"]));
        (exit, _, err) = CliRunner.Run("compare", "--model", model, "--adapter", tmp["adapter"], "--data", tmp["curated"], "--shots", "0", "--resamples", "200", "--out", tmp["eval"]);
        Assert.True(exit == 0, err);

        string output;
        (exit, output, err) = CliRunner.Run("card", "--model", model, "--adapter", tmp["adapter"], "--eval", tmp["eval"], "--curation", tmp["curated"],
            "--license", "apache-2.0", "--out", tmp["card"]);
        Assert.True(exit == 0, err);
        Assert.Contains("model-index: Accuracy (LoRA r=8), Macro-F1 (LoRA r=8)", output);
        var markdown = File.ReadAllText(tmp["card/README.md"]);
        var front = ModelCardTests.FrontMatter(markdown);
        Assert.Equal("peft", ModelCardTests.Scalar(front, "library_name"));
        Assert.Equal("apache-2.0", ModelCardTests.Scalar(front, "license"));
        Assert.Equal(["raw.jsonl"], ((YamlSequenceNode)front["datasets"]).Select(n => ((YamlScalarNode)n).Value));
        var lora = JsonNode.Parse(File.ReadAllText(tmp["eval/report.json"]))!["approaches"]!.AsArray().Single(a => a!["name"]!.GetValue<string>() == "LoRA r=8")!;
        Assert.Equal([("accuracy", lora["accuracy"]!.GetValue<double>(), "Accuracy (LoRA r=8)"), ("f1", lora["macro_f1"]!.GetValue<double>(), "Macro-F1 (LoRA r=8)")],
            ModelCardTests.ModelIndex(front));

        // the other sections come from the files too
        var curation = JsonNode.Parse(File.ReadAllText(tmp["curated/report.json"]))!;
        Assert.Contains($"Rows in: {curation["input_rows"]}, out: {curation["output_rows"]}", markdown);
        var history = JsonNode.Parse(File.ReadAllText(tmp["adapter/history.json"]))!.AsArray();
        Assert.Contains($"History (history.json): {history.Count} steps", markdown);
        var settings = JsonNode.Parse(File.ReadAllText(tmp["adapter/trainer_settings.json"]))!;
        Assert.Contains($"| learning_rate | {settings["learning_rate"]!.GetValue<double>().ToString(System.Globalization.CultureInfo.InvariantCulture)} |", markdown);
        Assert.Contains("| schedule | linear |", markdown);
        Assert.Contains("| packing | false |", markdown);
        Assert.Contains("rank r = 8", markdown);
        Assert.Contains("labels: `billing`, `shipping`", markdown);
        Assert.DoesNotContain(TempFolder.Root, markdown);

        // merge and export leave a card beside what they wrote
        (exit, output, err) = CliRunner.Run("merge", "--model", model, "--adapter", tmp["adapter"], "--out", tmp["merged"]);
        Assert.True(exit == 0, err);
        Assert.Contains("wrote model card", output);
        Assert.Equal("transformers", ModelCardTests.Scalar(ModelCardTests.FrontMatter(File.ReadAllText(tmp["merged/README.md"])), "library_name"));
        Directory.CreateDirectory(tmp["gguf"]);
        (exit, _, err) = CliRunner.Run("export", "--model", model, "--adapter", tmp["adapter"], "--type", "f32", "--out", tmp["gguf/support.gguf"]);
        Assert.True(exit == 0, err);
        var ggufCard = File.ReadAllText(tmp["gguf/README.md"]);
        Assert.Equal("gguf", ModelCardTests.Scalar(ModelCardTests.FrontMatter(ggufCard), "library_name"));
        Assert.Contains("llama-cli -m support.gguf", ggufCard);
    }

    [Fact]
    public void Bad_card_options_are_one_line_errors()
    {
        var model = TinyExportModels.Folder("llama");
        using var tmp = new TempFolder();
        var (exit, _, err) = CliRunner.Run("card", "--model", model, "--eval", tmp["missing"], "--out", tmp["card"]);
        Assert.Equal(1, exit);
        Assert.Contains($"--eval {tmp["missing"]}: no such folder or file", err);
        Directory.CreateDirectory(tmp["empty"]);
        (exit, _, err) = CliRunner.Run("card", "--model", model, "--audit", tmp["empty"], "--out", tmp["card"]);
        Assert.Equal(1, exit);
        Assert.Contains("report.json not found", err);
        Assert.Single(err.Trim().Split('\n'));
        (exit, _, err) = CliRunner.Run("card", "--model", tmp["nope"], "--out", tmp["card"]);
        Assert.Equal(2, exit);
        Assert.Contains("no such folder", err);
        (exit, _, err) = CliRunner.Run("card", "--model", model, "--shipped-as", "zip", "--out", tmp["card"]);
        Assert.Equal(2, exit);
        // a README.md of the user's own is not overwritten
        Directory.CreateDirectory(tmp["own"]);
        File.WriteAllText(tmp["own/README.md"], "mine");
        (exit, _, err) = CliRunner.Run("card", "--model", model, "--out", tmp["own"]);
        Assert.Equal(1, exit);
        Assert.Contains("was not written by the kit", err);
        Assert.Equal("mine", File.ReadAllText(tmp["own/README.md"]));
    }
}
