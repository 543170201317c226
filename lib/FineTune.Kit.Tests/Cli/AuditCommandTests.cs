using System.Text.Json.Nodes;
using FineTune.Kit.Sample;

namespace FineTune.Kit.Tests.Cli;

public class AuditCommandTests
{
    // short tickets (the tiny test model has 128 positions), four per region, two labels, a customer name in each
    private static string Data(int rows = 16) => CliData.Jsonl(Enumerable.Range(0, rows).Select(i => new JsonObject
    {
        ["text"] = (i % 2 == 0 ? "my parcel never arrived" : "refund the charge") + $"\n{(i % 3 == 0 ? "Maya" : "Oscar")} Cohen, {FairnessSample.Regions[i % 4]}",
        ["label"] = i % 2 == 0 ? "shipping_delay" : "refund",
        ["region"] = FairnessSample.Regions[i % 4],
    }));

    [Fact]
    public void Audit_writes_the_report_and_prints_its_json()
    {
        var model = CliData.SavedTinyModel();
        var data = Data();
        var output = Path.Combine(TempFolder.Fresh(), "audit");
        var (exit, stdout, err) = CliRunner.Run("audit", "--model", model, "--data", data, "--group", "region", "--max-examples", "16",
            "--min-group-size", "3", "--resamples", "50", "--out", output, "--json", "--instruction", "", "--input-prefix", "Customer: ");
        Assert.True(exit == 0, err + stdout);
        var json = JsonNode.Parse(stdout)!.AsObject();
        Assert.Equal(File.ReadAllText(Path.Combine(output, "report.json")).Trim(), stdout.Trim());
        Assert.True(File.Exists(Path.Combine(output, "report.html")));
        Assert.Equal(16, json["examples"]!.GetValue<int>());
        Assert.Equal(4, json["groups"]!.AsArray().Count);
        Assert.Equal(16, json["groups"]!.AsArray().Sum(g => g!["count"]!.GetValue<int>()));
        Assert.NotNull(json["max_gap"]);
        Assert.InRange(json["flip_rate"]!.GetValue<double>(), 0, 1);
        Assert.Null(json["extraction"]);
        Assert.Equal("default", json["counterfactuals"]!["lexicon"]!.GetValue<string>());
    }

    [Fact]
    public void Without_json_the_summary_names_groups_and_flip_rates()
    {
        var (exit, stdout, err) = CliRunner.Run("audit", "--model", CliData.SavedTinyModel(), "--data", Data(), "--group", "region",
            "--max-examples", "10", "--min-group-size", "3", "--resamples", "20", "--counterfactuals", "none");
        Assert.True(exit == 0, err + stdout);
        Assert.Contains("Westerlyn: 2 examples", stdout);   // rows 3 and 7 of the first 10
        Assert.Contains("Northmere: 3 examples", stdout);
        Assert.Contains("(too small to rank)", stdout);
        Assert.Contains("note: counterfactuals were not run", stdout);
    }

    [Theory]
    [InlineData("--level", "1", "--level must be a number in (0, 1), got 1")]
    [InlineData("--min-group-size", "0", "--min-group-size must be a whole number >= 1, got 0")]
    [InlineData("--resamples", "0", "--resamples must be a whole number >= 1, got 0")]
    [InlineData("--max-examples", "0", "--max-examples must be a whole number >= 1, got 0")]
    [InlineData("--gap-tolerance", "2", "--gap-tolerance must be a number in [0, 1], got 2")]
    [InlineData("--counterfactuals", "no-such-lexicon.json", "--counterfactuals must be default, none or an existing lexicon file, got no-such-lexicon.json")]
    [InlineData("--group", " ", "--group must be a column name, got")]
    public void Bad_values_are_refused_in_one_line(string option, string value, string expected)
    {
        var (exit, stdout, err) = CliRunner.Run("audit", "--model", CliData.SavedTinyModel(), "--data", Data(), option, value);
        Assert.Equal(FineTune.Kit.Cli.Program.UsageError, exit);
        Assert.Equal("", stdout);
        Assert.Equal($"ftk audit: {expected}", err.Trim());
    }

    [Fact]
    public void A_missing_group_column_and_a_bad_lexicon_file_fail_in_one_line_naming_the_file()
    {
        var data = Data();
        var (exit, _, err) = CliRunner.Run("audit", "--model", CliData.SavedTinyModel(), "--data", data, "--group", "country", "--max-examples", "4");
        Assert.Equal(FineTune.Kit.Cli.Program.Failure, exit);
        Assert.StartsWith($"ftk audit: {data}:1: the row has no \"country\"", err.Trim());
        Assert.Single(err.Trim().Split('\n'));
        var lexicon = Path.Combine(TempFolder.Fresh(), "lexicon.json");
        File.WriteAllText(lexicon, """{"attributes": {}}""");
        (exit, _, err) = CliRunner.Run("audit", "--model", CliData.SavedTinyModel(), "--data", data, "--counterfactuals", lexicon);
        Assert.Equal(FineTune.Kit.Cli.Program.Failure, exit);
        Assert.StartsWith($"ftk audit: {lexicon}: expected an object with \"attributes\"", err.Trim());
    }
}
