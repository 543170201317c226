using System.Text.Json;
using FineTune.Kit.Evaluation;
using FineTune.Kit.Prompting;

namespace FineTune.Kit.Tests.Evaluation;

public sealed class EvaluationFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ftk-eval-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, params string[] lines)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void Test_set_keeps_extra_fields_as_columns()
    {
        var path = Write("test.jsonl", """{"text": "hola", "label": "greet", "lang": "es", "len": 4}""", "", """{"text": "bye", "label": 2}""");
        var set = EvaluationFiles.ReadTestSet(path);
        Assert.Equal(2, set.Count);
        Assert.Equal("es", set[0].Column("lang"));
        Assert.Equal("4", set[0].Column("len"));
        Assert.Equal("2", set[1].Label);
    }

    [Fact]
    public void Bad_lines_are_reported_with_file_and_line()
    {
        var path = Write("bad.jsonl", """{"text": "a", "label": "x"}""", """{"text": "b"}""");
        var e = Assert.Throws<DataFormatException>(() => EvaluationFiles.ReadTestSet(path));
        Assert.Contains("bad.jsonl:2", e.Message);
        Assert.Contains("'label'", e.Message);
        var p = Write("p.jsonl", """{"label": "x", "probabilities": {"x": 1.5}}""");
        Assert.Contains("p.jsonl:1", Assert.Throws<DataFormatException>(() => EvaluationFiles.ReadPredictions(p)).Message);
        var q = Write("q.jsonl", "{not json");
        Assert.Contains("q.jsonl:1", Assert.Throws<DataFormatException>(() => EvaluationFiles.ReadPredictions(q)).Message);
    }

    [Fact]
    public void Predictions_round_trip()
    {
        ClassifierOutput[] outputs =
        [
            new("a", new Dictionary<string, double> { ["a"] = 0.75, ["b"] = 0.25 }, 120, TimeSpan.FromMilliseconds(12.5)),
            ClassifierOutput.LabelOnly("b"),
        ];
        var path = Path.Combine(_dir, "preds.jsonl");
        EvaluationFiles.WritePredictions(path, outputs);
        var back = EvaluationFiles.ReadPredictions(path);
        Assert.Equal("a", back[0].Label);
        Assert.Equal(0.75, back[0].Probabilities["a"]);
        Assert.Equal(120, back[0].PromptTokens);
        Assert.Equal(12.5, back[0].Latency!.Value.TotalMilliseconds, 9);
        Assert.Empty(back[1].Probabilities);
        Assert.Null(back[1].Latency);
    }

    [Fact]
    public void Training_history_reads_from_jsonl_and_csv_alike()
    {
        var jsonl = Write("history.jsonl", """{"step": 10, "train_loss": 2.0, "val_loss": 2.1}""", """{"step": 20, "train_loss": 1.5}""",
            """{"step": 30, "train_loss": 1.0, "val_loss": null}""", """{"step": 40, "train_loss": 0.8, "val_loss": 1.9}""");
        var csv = Write("history.csv", "step,train_loss,val_loss", "10,2.0,2.1", "20,1.5,", "30,1.0,", "40,0.8,1.9");
        var a = EvaluationFiles.ReadTrainingHistory(jsonl);
        var b = EvaluationFiles.ReadTrainingHistory(csv);
        Assert.Equal(a, b);
        Assert.Null(a[1].ValLoss);
        Assert.Equal(40, Overfitting.Diagnose(a).BestValidationStep);

        var bad = Write("bad.csv", "step,train_loss", "1,abc");
        var e = Assert.Throws<DataFormatException>(() => EvaluationFiles.ReadTrainingHistory(bad));
        Assert.Contains("bad.csv:2", e.Message);
        Assert.Contains("train_loss", e.Message);
    }

    [Fact]
    public void Compare_command_writes_table_recommendation_and_reports()
    {
        var test = Write("test.jsonl", Enumerable.Range(0, 40)
            .Select(i => $$"""{"text": "t{{i}}", "label": "{{(i % 2 == 0 ? "x" : "y")}}", "lang": "{{(i < 10 ? "de" : "en")}}"}""").ToArray());
        string Line(int i, bool right, int tokens) =>
            $$"""{"label": "{{((i % 2 == 0) == right ? "x" : "y")}}", "prompt_tokens": {{tokens}}}""";
        var zero = Write("zero.jsonl", Enumerable.Range(0, 40).Select(i => Line(i, i % 4 != 0, 300)).ToArray());
        var lora = Write("lora.jsonl", Enumerable.Range(0, 40).Select(i => Line(i, i % 20 != 0, 20)).ToArray());
        var reports = Path.Combine(_dir, "reports");
        var html = Path.Combine(reports, "report.html");
        var json = Path.Combine(reports, "report.json");

        var (code, stdout, stderr) = Run("compare", "--test", test, "--approach", $"zero-shot={zero}",
            "--approach", $"LoRA={lora};params=811008;train_seconds=600", "--price-per-1k-tokens", "0.5",
            "--resamples", "500", "--out", reports, "--slice-by", "lang");
        Assert.True(code == 0, stderr);
        Assert.Contains("zero-shot", stdout);
        Assert.Contains("LoRA", stdout);
        Assert.Contains("Pareto front", stdout);
        Assert.Contains("lang", stdout);
        Assert.Contains("de", stdout);
        Assert.True(File.Exists(html));
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(2, doc.RootElement.GetProperty("approaches").GetArrayLength());
        Assert.Equal(811008, doc.RootElement.GetProperty("approaches")[1].GetProperty("trainable_params").GetInt64());
    }

    [Fact]
    public void Compare_command_reports_bad_input_on_one_line()
    {
        var test = Write("test.jsonl", """{"text": "a", "label": "x"}""");
        var preds = Write("p.jsonl", """{"label": "x"}""", """{"label": "y"}""");
        var (code, _, stderr) = Run("compare", "--test", test, "--approach", $"m={preds}");
        Assert.Equal(1, code);
        Assert.Contains("2 predictions for 1 test examples", stderr);
        var (code2, _, stderr2) = Run("compare", "--test", test, "--approach", "no-equals-sign");
        Assert.Equal(1, code2);
        Assert.Contains("NAME=PREDICTIONS.jsonl", stderr2);
    }

    private static (int Code, string Out, string Err) Run(params string[] args) => FineTune.Kit.Tests.Cli.CliRunner.Run(args);
}
