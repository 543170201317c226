using System.Text.Json.Nodes;
using FineTune.Kit.Cli;

namespace FineTune.Kit.Tests.Data;

public class CurateCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => FineTune.Kit.Tests.Cli.CliRunner.Run(args);

    private static string Input(TempFolder dir)
    {
        var lines = new List<string>();
        for (int i = 0; i < 30; i++)
            lines.Add($$"""{"text": "ticket number {{i}} about {{(i % 2 == 0 ? "billing and invoices" : "a crash in the app")}} item {{i * 7}}", "label": "{{(i % 2 == 0 ? "billing" : "bug")}}"}""");
        lines.Insert(4, """{"text": "<b>ticket number 0 about billing and invoices item 0</b>", "label": "billing"}"""); // duplicate after HTML strip
        lines.Insert(7, """{"text": broken""");                                                                   // malformed: line 8
        lines.Add("""{"text": "write to me: someone@example.com", "label": "bug"}""");
        return dir.File("in.jsonl", string.Join("\n", lines) + "\n");
    }

    [Fact]
    public void Malformed_line_fails_by_default_naming_the_line()
    {
        using var dir = new TempFolder();
        var (code, _, err) = Run("curate", "--input", Input(dir), "--out", dir["out"]);
        Assert.NotEqual(0, code);
        Assert.Contains("in.jsonl:8:", err);
        Assert.False(Directory.Exists(dir["out"]));
    }

    [Fact]
    public void Skip_writes_splits_and_a_report_whose_rows_add_up()
    {
        using var dir = new TempFolder();
        var (code, stdout, err) = Run("curate", "--input", Input(dir), "--out", dir["out"], "--on-error", "skip",
            "--seed", "3", "--split", "0.6,0.2,0.2", "--stratify", "label");
        Assert.True(code == 0, err);
        foreach (var f in new[] { "train.jsonl", "validation.jsonl", "test.jsonl", "report.json", "report.html" })
            Assert.True(File.Exists(Path.Combine(dir["out"], f)), f);
        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(dir["out"], "report.json")))!;
        int input = (int)report["input_rows"]!, output = (int)report["output_rows"]!;
        int removed = report["rules"]!.AsArray().Sum(r => (int)r!["removed"]!);
        Assert.Equal(32, input);   // 33 lines, one malformed
        Assert.Equal(input, removed + output);
        Assert.Equal(8, (int)report["invalid_rows"]![0]!["line"]!);
        var splits = report["splits"]!;
        int train = (int)splits["train"]!, val = (int)splits["validation"]!, test = (int)splits["test"]!;
        Assert.Equal(output, train + val + test);
        Assert.Equal(train, File.ReadAllLines(Path.Combine(dir["out"], "train.jsonl")).Length);
        Assert.Contains("[EMAIL]", File.ReadAllText(Path.Combine(dir["out"], "train.jsonl")) + File.ReadAllText(Path.Combine(dir["out"], "validation.jsonl")) + File.ReadAllText(Path.Combine(dir["out"], "test.jsonl")));
        Assert.Contains("rows in", stdout);

        // same seed, same files
        Run("curate", "--input", Input(dir), "--out", dir["again"], "--on-error", "skip", "--seed", "3", "--split", "0.6,0.2,0.2", "--stratify", "label");
        Assert.Equal(File.ReadAllText(Path.Combine(dir["out"], "test.jsonl")), File.ReadAllText(Path.Combine(dir["again"], "test.jsonl")));
    }

    [Fact]
    public void Config_file_and_bad_options_are_checked()
    {
        using var dir = new TempFolder();
        var config = dir.File("curation.json", """{"rules": [{"rule": "strip_html"}, {"rule": "drop_exact_duplicates"}]}""");
        var (code, _, err) = Run("curate", "--input", Input(dir), "--out", dir["out"], "--on-error", "skip", "--config", config);
        Assert.True(code == 0, err);
        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(dir["out"], "report.json")))!;
        Assert.Equal(["strip_html", "drop_exact_duplicates"], report["rules"]!.AsArray().Select(r => (string)r!["name"]!));
        Assert.Equal(1, (int)report["rules"]![1]!["removed"]!);

        Assert.Contains("--split", Run("curate", "--input", Input(dir), "--out", dir["o2"], "--split", "0.8,0.2").Err);
        Assert.Contains("--on-error", Run("curate", "--input", Input(dir), "--out", dir["o3"], "--on-error", "ignore").Err);
    }
}
