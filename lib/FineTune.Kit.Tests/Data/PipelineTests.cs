using System.Text.Json.Nodes;
using FineTune.Kit.Data;
using FineTune.Kit.Data.Curation;

namespace FineTune.Kit.Tests.Data;

public class PipelineTests
{
    private static readonly string[] Raw =
    [
        "{\"text\": \"<p>My invoice is <b>wrong</b></p>\", \"label\": \"billing\"}",
        "{\"text\": \"My invoice is wrong\", \"label\": \"billing\"}",
        "{\"text\": \"App crashes when I save, mail john@example.com\", \"label\": \"bug\"}",
        "{\"text\": \"   \", \"label\": \"bug\"}",
        "not json at all",
        "{\"text\": \"ok\", \"label\": \"bug\"}",
        "{\"text\": \"The export button freezes the whole screen every single time\", \"label\": \"bug\"}",
        "{\"text\": \"The export button freezes the whole screen every single time again\", \"label\": \"bug\"}",
        "{\"text\": \"Password reset link never arrives in my inbox\", \"label\": \"account\"}",
    ];

    private static Dataset Load(TempFolder dir) => Dataset.FromJsonl(dir.File("raw.jsonl", string.Join("\n", Raw)), OnError.Skip);

    [Fact]
    public void Fluent_pipeline_accounts_for_every_row()
    {
        using var dir = new TempFolder();
        var raw = Load(dir);
        var curated = raw.Curate(c => c
            .NormalizeUnicode().StripHtml().CollapseWhitespace()
            .DropEmpty("text").DropDuplicates(nearThreshold: 0.85)
            .RedactPii().FilterLength(minChars: 3, maxChars: 2000).FilterTokenCount(min: 3, max: 256, TokenCounters.Whitespace));
        var report = curated.Report;
        Assert.Equal(8, report.InputRows);            // the malformed line is not an input row...
        Assert.Equal(5, Assert.Single(report.InvalidRows).Line); // ...but is listed with its line
        Assert.Equal(report.InputRows, report.Rules.Sum(r => r.Removed) + report.OutputRows);
        Assert.Equal([1, 3, 7, 9], curated.Data.Rows.Select(r => r.Line));
        Assert.Equal("App crashes when I save, mail [EMAIL]", curated.Data[1]["text"]);
        var byRule = report.Rules.ToDictionary(r => r.Name);
        Assert.Equal(1, byRule["drop_empty"].Removed);
        Assert.Equal(1, byRule["drop_exact_duplicates"].Removed);
        Assert.Equal(1, byRule["drop_near_duplicates"].Removed);
        Assert.Equal(1, byRule["filter_length"].Removed);  // "ok"
        Assert.Equal(1, byRule["redact_pii"].Modified);
        Assert.Equal(report.Changes.Count(c => c.Change.Kind == ChangeKind.Removed), report.Removed);
        Assert.Contains(report.DuplicateClusters, c => c is { Kind: "exact", KeptLine: 1 } && c.RemovedLines.SequenceEqual([2]));
    }

    [Fact]
    public void Report_json_has_the_documented_fields()
    {
        using var dir = new TempFolder();
        var result = Load(dir).Curate(c => c.StripHtml().DropEmpty("text").DropExactDuplicates());
        var splits = result.Data.Split(0.5, 0.25, 0.25, seed: 1);
        var json = JsonNode.Parse(result.Report.RecordSplits(splits).ToJson())!;
        Assert.Equal(8, (int)json["input_rows"]!);
        Assert.Equal(6, (int)json["output_rows"]!);
        Assert.Equal(5, (int)json["invalid_rows"]![0]!["line"]!);
        Assert.Equal(["strip_html", "drop_empty", "drop_exact_duplicates"], json["rules"]!.AsArray().Select(r => (string)r!["name"]!));
        Assert.Equal(2, json["rules"]!.AsArray().Sum(r => (int)r!["removed"]!));
        Assert.Equal(6, (int)json["splits"]!["train"]! + (int)json["splits"]!["validation"]! + (int)json["splits"]!["test"]!);
        Assert.Equal(2, json["changes"]!.AsArray().Count(c => (string)c!["action"]! == "removed"));
        Assert.Equal(5, (int)json["labels_before"]!["bug"]!);
        Assert.Equal(5.0, (double)json["imbalance_before"]!); // bug 5 : account 1
    }

    [Fact]
    public void Report_renders_charts_and_html()
    {
        using var dir = new TempFolder();
        var report = Load(dir).Curate(c => c.StripHtml().DropDuplicates()).Report;
        var charts = report.Charts();
        Assert.Equal(3, charts.Count); // rules, lengths, labels
        var html = report.ToHtml();
        Assert.Contains("drop_near_duplicates", html);
        Assert.Contains("Plotly.newPlot", html);
        report.Save(dir["report"]);
        Assert.True(File.Exists(Path.Combine(dir["report"], "report.html")));
        Assert.True(File.Exists(Path.Combine(dir["report"], "report.json")));
    }

    [Fact]
    public void A_rule_that_lies_about_removals_is_caught()
    {
        var data = Dataset.FromTexts(["a", "b"]);
        var e = Assert.Throws<InvalidOperationException>(() => data.Curate(c => c.Add(new SilentDrop())));
        Assert.Contains("silent", e.Message);
    }

    private sealed class SilentDrop : ICurationRule
    {
        public string Name => "silent";
        public RuleOutcome Apply(IReadOnlyList<Example> rows) => new(rows.Skip(1).ToList(), []);
    }

    [Fact]
    public void Augmentation_marks_new_rows_and_keeps_labels()
    {
        var train = Dataset.FromTexts(["one two three four five six", "alpha beta gamma delta"], ["x", "y"]);
        var augmented = new Augmenter(wordDropout: 0.2, wordSwap: 0.3, copies: 2, seed: 1).Augment(train);
        Assert.True(augmented.Count > 2);
        Assert.Equal(train.Rows, augmented.Rows.Take(2));
        Assert.All(augmented.Rows.Skip(2), r => Assert.Equal("true", r["augmented"]));
        Assert.All(augmented.Rows.Skip(2), r => Assert.Equal(r.Line == 1 ? "x" : "y", r["label"]));
    }
}
