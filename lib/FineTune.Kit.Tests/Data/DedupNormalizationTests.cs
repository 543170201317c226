using System.Text.Json.Nodes;
using FineTune.Kit.Data;
using FineTune.Kit.Data.Curation;

namespace FineTune.Kit.Tests.Data;

public class DedupNormalizationTests
{
    private const string Ticket =
        "Hi, my thermostat shows error E4, the display flickers, and the heating stays off, even after a restart, so the house is cold.";

    // the same ticket with its commas removed and its final full stop changed to "!"
    private static readonly string Variant = Ticket.Replace(",", "")[..^1] + "!";

    private static string[] Rows() =>
    [
        $$"""{"text": "{{Ticket}}", "label": "hardware"}""",
        """{"text": "My parcel was delivered to the wrong address yesterday evening.", "label": "shipping"}""",
        $$"""{"text": "{{Variant}}", "label": "hardware"}""",
        """{"text": "The app logs me out every time I open the settings page.", "label": "app"}""",
    ];

    [Fact]
    public void Normalisation_by_hand()
    {
        var n = TextNormalization.Default;
        Assert.Equal("hi my router drops wifi", n.Apply("  Hi,   my Router drops Wi-Fi! "));
        Assert.Equal(n.Apply(Ticket), n.Apply(Variant));
        Assert.Equal("order 0000 costs €00", new TextNormalization(MaskDigits: true).Apply("Order #4711 costs €12."));
        Assert.Equal("Hi, A  b.", TextNormalization.None.Apply("Hi, A  b."));
        Assert.Equal("NFKC, lower case, punctuation removed, white space collapsed", n.Describe());
    }

    [Fact]
    public void Punctuation_only_variant_is_removed_by_the_default_pipeline()
    {
        using var dir = new TempFolder();
        var data = Dataset.FromJsonl(dir.File("raw.jsonl", string.Join("\n", Rows())));
        var result = CurationConfig.Default().Pipeline.Run(data);
        Assert.Equal([1, 2, 4], result.Data.Rows.Select(r => r.Line));
        var removed = Assert.Single(result.Report.Changes);
        Assert.Equal(3, removed.Change.Line);
        Assert.Contains("duplicate of line 1", removed.Change.Reason);
        var notes = result.Report.Rules.Single(r => r.Name == "drop_exact_duplicates").Notes;
        Assert.Contains(notes, n => n.Contains("punctuation removed"));
        Assert.Contains("punctuation removed", result.Report.ToHtml());
    }

    [Fact]
    public void Near_duplicate_rule_alone_catches_punctuation_variants_and_normalisation_is_configurable()
    {
        using var dir = new TempFolder();
        var data = Dataset.FromJsonl(dir.File("raw.jsonl", string.Join("\n", Rows())));
        // shingles of the normalised texts are identical
        var near = data.Curate(c => c.DropNearDuplicates());
        Assert.Equal([1, 2, 4], near.Data.Rows.Select(r => r.Line));
        // switched off, the variant stays (the character shingles differ around every comma)
        var raw = data.Curate(c => c.DropDuplicates(normalization: TextNormalization.None));
        Assert.Equal([1, 2, 3, 4], raw.Data.Rows.Select(r => r.Line));
        Assert.Contains(raw.Report.Rules.Single(r => r.Name == "drop_near_duplicates").Notes, n => n.StartsWith("texts shingled after normalisation: NFKC;"));
    }

    [Fact]
    public void Config_file_sets_the_normalisation_and_rejects_unknown_keys()
    {
        var config = CurationConfig.Parse("""
            {"rules": [
              {"rule": "drop_exact_duplicates", "normalize": {"mask_digits": true, "remove_punctuation": false}},
              {"rule": "drop_near_duplicates", "normalize": {"lower_case": false}}
            ]}
            """);
        var exact = Assert.IsType<ExactDuplicateRule>(config.Pipeline.Rules[0]);
        Assert.Equal(new TextNormalization(true, false, true, true), exact.Normalization);
        var near = Assert.IsType<NearDuplicateRule>(config.Pipeline.Rules[1]);
        Assert.Equal(new TextNormalization(LowerCase: false), near.Options.TextNormalization);

        var e = Assert.Throws<DataFormatException>(() => CurationConfig.Parse(
            """{"rules": [{"rule": "drop_exact_duplicates", "normalize": {"punctuation": false}}]}""", "c.json"));
        Assert.Contains("c.json: rules[0].normalize: unknown key 'punctuation'", e.Message);
        e = Assert.Throws<DataFormatException>(() => CurationConfig.Parse(
            """{"rules": [{"rule": "drop_near_duplicates", "normalize": true}]}""", "c.json"));
        Assert.Contains("'normalize' must be an object", e.Message);
    }

    [Fact]
    public void Ftk_curate_with_defaults_keeps_one_of_the_two()
    {
        using var dir = new TempFolder();
        var input = dir.File("in.jsonl", string.Join("\n", Rows()) + "\n");
        var (code, _, err) = FineTune.Kit.Tests.Cli.CliRunner.Run("curate", "--input", input, "--out", dir["out"]);
        Assert.True(code == 0, err);
        var written = string.Concat(new[] { "train", "validation", "test" }.Select(s => File.ReadAllText(Path.Combine(dir["out"], s + ".jsonl"))));
        Assert.Equal(1, written.Split("thermostat").Length - 1);
        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(dir["out"], "report.json")))!;
        Assert.Equal(3, (int)report["output_rows"]!);
        var exact = report["rules"]!.AsArray().Single(r => (string)r!["name"]! == "drop_exact_duplicates")!;
        Assert.Equal(1, (int)exact["removed"]!);
        Assert.Contains("punctuation removed", exact["notes"]!.ToJsonString());
    }
}
