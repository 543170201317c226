using System.Globalization;
using System.Text.Json.Nodes;
using FineTune.Kit.Audit;
using FineTune.Kit.Tests.Serving;
using YamlDotNet.RepresentationModel;

namespace FineTune.Kit.Tests.Audit;

/// <summary>Model cards checked with a real YAML reader (YamlDotNet, test project only).</summary>
public class ModelCardTests
{
    /// <summary>The front matter of a README.md, parsed.</summary>
    internal static YamlMappingNode FrontMatter(string markdown)
    {
        Assert.StartsWith("---\n", markdown);
        var end = markdown.IndexOf("\n---\n", 4, StringComparison.Ordinal);
        Assert.True(end > 0, "no closing --- of the front matter");
        var stream = new YamlStream();
        stream.Load(new StringReader(markdown[4..(end + 1)]));
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    internal static string Scalar(YamlNode node, string key) => ((YamlScalarNode)((YamlMappingNode)node)[key]).Value!;

    /// <summary>The model-index metrics as (type, value, name); values must be plain (unquoted) YAML numbers.</summary>
    internal static List<(string Type, double Value, string Name)> ModelIndex(YamlMappingNode front)
    {
        var results = (YamlSequenceNode)((YamlMappingNode)((YamlSequenceNode)front["model-index"]).Single())["results"];
        var metrics = (YamlSequenceNode)((YamlMappingNode)results.Single())["metrics"];
        return metrics.Cast<YamlMappingNode>().Select(m =>
        {
            var value = (YamlScalarNode)m["value"];
            Assert.Equal(YamlDotNet.Core.ScalarStyle.Plain, value.Style);
            return (Scalar(m, "type"), double.Parse(value.Value!, NumberStyles.Float, CultureInfo.InvariantCulture), Scalar(m, "name"));
        }).ToList();
    }

    private static string Evaluation(string dir, params (string Name, double Accuracy, double F1)[] approaches)
    {
        Directory.CreateDirectory(dir);
        var json = new JsonObject
        {
            ["approaches"] = new JsonArray(approaches.Select(a => (JsonNode)new JsonObject
            {
                ["name"] = a.Name, ["accuracy"] = a.Accuracy, ["accuracy_ci"] = new JsonArray(a.Accuracy - 0.01, a.Accuracy + 0.01),
                ["macro_f1"] = a.F1, ["trainable_params"] = 1000, ["latency_ms"] = 12.5, ["cost_per_1k"] = 0.0004,
            }).ToArray()),
            ["recommendation"] = "Use the fine-tuned model.",
        };
        File.WriteAllText(Path.Combine(dir, "report.json"), json.ToJsonString());
        return dir;
    }

    [Fact]
    public void The_front_matter_parses_and_every_model_index_number_is_the_evaluation_files()
    {
        var model = TinyExportModels.Folder("llama");
        using var tmp = new TempFolder();
        // awkward numbers on purpose: many digits, an exponent, and a name YAML would misread unquoted
        var eval = Evaluation(tmp["eval"], ("zero-shot", 0.5, 0.3333333333333333), ("LoRA r=8", 0.9766666666666667, 1e-05));
        var card = ModelCard.For(model).Evaluation(eval).Name("support: \"tickets\" # v2 - [beta]").License("apache-2.0").Dataset("lumen/support-tickets");
        var front = FrontMatter(card.ToMarkdown());
        Assert.Equal("apache-2.0", Scalar(front, "license"));
        Assert.Equal("transformers", Scalar(front, "library_name"));
        Assert.Equal("text-generation", Scalar(front, "pipeline_tag"));
        Assert.Equal(["lumen/support-tickets"], ((YamlSequenceNode)front["datasets"]).Select(n => ((YamlScalarNode)n).Value));
        Assert.Contains("finetune-kit", ((YamlSequenceNode)front["tags"]).Select(n => ((YamlScalarNode)n).Value));
        Assert.False(front.Children.ContainsKey("base_model"));   // a local folder is no Hub id
        Assert.Equal("support: \"tickets\" # v2 - [beta]", Scalar(((YamlSequenceNode)front["model-index"]).Single(), "name"));

        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(eval, "report.json")))!["approaches"]!.AsArray()[1]!;
        var metrics = ModelIndex(front);
        Assert.Equal([("accuracy", report["accuracy"]!.GetValue<double>(), "Accuracy (LoRA r=8)"), ("f1", report["macro_f1"]!.GetValue<double>(), "Macro-F1 (LoRA r=8)")], metrics);
        Assert.Equal(metrics.Select(m => m.Value), card.ModelIndexMetrics.Select(m => m.Value));
    }

    [Fact]
    public void Missing_files_are_said_to_be_missing_and_no_result_is_invented()
    {
        var model = TinyExportModels.Folder("llama");
        var markdown = ModelCard.For(model).ToMarkdown();
        var front = FrontMatter(markdown);
        Assert.Equal("unknown", Scalar(front, "license"));
        Assert.False(front.Children.ContainsKey("model-index"));
        Assert.Contains("No evaluation was given", markdown);
        Assert.Contains("No audit was given", markdown);
        Assert.Contains("No curation report was given", markdown);
        Assert.Contains("Not measured or not recorded for this card: training data and curation; training procedure; evaluation; bias audit; leakage and memorisation", markdown);
        Assert.DoesNotContain(Path.GetTempPath().TrimEnd('/'), markdown);        // no machine paths

        // two approaches and none named as the model: no model-index rather than a guess
        using var tmp = new TempFolder();
        var eval = Evaluation(tmp["eval"], ("zero-shot", 0.5, 0.4), ("few-shot k=4", 0.6, 0.5));
        var card = ModelCard.For(model).Evaluation(eval);
        Assert.Empty(card.ModelIndexMetrics);
        Assert.Contains("none was named as this model", card.ToMarkdown());
        Assert.Equal(0.6, ModelIndex(FrontMatter(card.Approach("few-shot k=4").ToMarkdown()))[0].Value);
        Assert.Throws<ArgumentException>(() => ModelCard.For(model).Evaluation(eval).Approach("nope").ToMarkdown());
    }

    [Fact]
    public void Audit_results_are_read_from_the_audit_report()
    {
        var model = TinyExportModels.Folder("llama");
        using var tmp = new TempFolder();
        Directory.CreateDirectory(tmp["audit"]);
        File.WriteAllText(tmp["audit/report.json"], new JsonObject
        {
            ["flip_rate"] = 0.125, ["flip_rate_ci"] = new JsonArray(0.05, 0.2),
            ["max_gap"] = new JsonObject { ["metric"] = "accuracy", ["gap"] = 0.31, ["ci"] = new JsonArray(0.1, 0.5) },
            ["groups"] = new JsonArray(new JsonObject { ["group"] = "north", ["n"] = 40, ["accuracy"] = 0.9 }),
            ["extraction"] = new JsonObject { ["train_exact"] = 0.4375, ["heldout_exact"] = 0.0, ["prefix_tokens"] = 6 },
            ["membership"] = new JsonObject { ["gap"] = 1.5, ["gap_ci"] = new JsonArray(1.2, 1.8), ["auc"] = 0.97, ["train_loss"] = 0.2, ["heldout_loss"] = 1.7 },
        }.ToJsonString());
        var markdown = ModelCard.For(model).Audit(tmp["audit"]).ToMarkdown();
        FrontMatter(markdown);
        Assert.Contains("Counterfactual flip rate (the label changes when only a protected attribute changes): 0.125 [0.05, 0.2]", markdown);
        Assert.Contains("gap 0.31", markdown);
        Assert.Contains("| north | 40 | 0.9 |", markdown);
        Assert.Contains("exact reproduction of the rest 0.4375 of training examples against 0 of held-out examples", markdown);
        Assert.Contains("gap 1.5 [1.2, 1.8], AUC of the loss as membership classifier 0.97", markdown);
        Assert.Contains("audit/report.json", markdown);
    }

    [Fact]
    public void A_readme_the_kit_did_not_write_is_kept()
    {
        var model = TinyExportModels.Folder("llama");
        using var tmp = new TempFolder();
        File.WriteAllText(tmp["README.md"], "# my own notes\n");
        Assert.Throws<IOException>(() => ModelCard.For(model).Save(tmp.Path));
        Assert.Equal("# my own notes\n", File.ReadAllText(tmp["README.md"]));
        File.Delete(tmp["README.md"]);
        ModelCard.For(model).Save(tmp.Path);
        ModelCard.For(model).License("mit").Save(tmp.Path);      // its own card is replaced
        Assert.Equal("mit", Scalar(FrontMatter(File.ReadAllText(tmp["README.md"])), "license"));
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(1e-05)]
    [InlineData(123456789.0)]
    [InlineData(1.0)]
    [InlineData(-2.5e-300)]
    public void Numbers_read_back_as_the_same_double(double value)
    {
        var yaml = ModelCardYaml.Write(new ModelCardYaml.Map().Add("v", value));
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var node = (YamlScalarNode)((YamlMappingNode)stream.Documents[0].RootNode)["v"];
        Assert.Equal(YamlDotNet.Core.ScalarStyle.Plain, node.Style);
        Assert.Equal(value, double.Parse(node.Value!, NumberStyles.Float, CultureInfo.InvariantCulture));
        Assert.Contains('.', node.Value!);      // YAML 1.1 readers need a dot to see a float
    }
}
