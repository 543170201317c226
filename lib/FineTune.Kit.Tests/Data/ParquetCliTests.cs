using System.Text.Json.Nodes;
using FineTune.Kit.Data;

namespace FineTune.Kit.Tests.Data;

public class ParquetCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => FineTune.Kit.Tests.Cli.CliRunner.Run(args);

    private static Dataset Tickets(int count, int offset = 0) => Dataset.FromTexts(
        Enumerable.Range(offset, count).Select(i => $"ticket {i} about {(i % 2 == 0 ? "billing and invoices" : "a crash in the app")} item {i * 7}"),
        Enumerable.Range(offset, count).Select(i => (string?)(i % 2 == 0 ? "billing" : "bug")));

    [Fact]
    public void Curate_reads_a_parquet_file_as_it_reads_jsonl()
    {
        using var dir = new TempFolder();
        Tickets(30).SaveParquet(dir["in.parquet"]);
        Tickets(30).ToJsonl(dir["in.jsonl"]);
        var (code, _, err) = Run("curate", "--data", dir["in.parquet"], "--out", dir["a"], "--seed", "3");
        Assert.True(code == 0, err);
        (code, _, err) = Run("curate", "--data", dir["in.jsonl"], "--out", dir["b"], "--seed", "3");
        Assert.True(code == 0, err);
        foreach (var f in new[] { "train.jsonl", "validation.jsonl", "test.jsonl" })
            Assert.Equal(File.ReadAllText(Path.Combine(dir["b"], f)), File.ReadAllText(Path.Combine(dir["a"], f)));
        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(dir["a"], "report.json")))!;
        Assert.Equal(30, (int)report["input_rows"]!);
    }

    [Fact]
    public void Curate_reads_the_train_split_of_a_hub_folder_and_says_which_splits_it_left()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir["hub/data"]);
        Tickets(20).SaveParquet(dir["hub/data/train-00000-of-00002.parquet"]);
        Tickets(10, offset: 20).SaveParquet(dir["hub/data/train-00001-of-00002.parquet"]);
        Tickets(5, offset: 100).SaveParquet(dir["hub/data/test-00000-of-00001.parquet"]);
        var (code, stdout, err) = Run("curate", "--data", dir["hub"], "--out", dir["out"]);
        Assert.True(code == 0, err);
        Assert.Contains("curating split 'train'; the folder's other splits (test) are not read", stdout);
        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(dir["out"], "report.json")))!;
        Assert.Equal(30, (int)report["input_rows"]!);
    }

    [Fact]
    public void Curate_refuses_a_folder_with_no_dataset_files_listing_them()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir["hub"]);
        File.WriteAllText(dir["hub/notes.txt"], "nothing here");
        var (code, _, err) = Run("curate", "--data", dir["hub"], "--out", dir["out"]);
        Assert.NotEqual(0, code);
        Assert.Contains("no dataset files recognised", err);
        Assert.Contains("notes.txt", err);
    }
}
