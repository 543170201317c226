using System.Text.Json;
using FineTune.Kit.Audit;
using FineTune.Kit.Data;
using FineTune.Kit.Plots;
using FineTune.Kit.Prompting;

namespace FineTune.Kit.Tests.Audit;

public class AuditReportTests
{
    /// <summary>Says "feedback" for every Westerlyn ticket, else the gold label it reads from the text's first word.</summary>
    private sealed class RegionBiased : ITextClassifier
    {
        public ClassifierOutput Classify(string input) => ClassifierOutput.LabelOnly(
            input.Contains("Westerlyn", StringComparison.Ordinal) ? "feedback" : input.Split(' ')[0]);
    }

    private static Dataset Rows()
    {
        var regions = new[] { "Northmere", "Eastfold", "Sundervale", "Westerlyn" };
        var labels = new[] { "billing", "feedback" };
        return Dataset.FromObjects(Enumerable.Range(0, 80).Select(i => new System.Text.Json.Nodes.JsonObject
        {
            ["text"] = $"{labels[i % 2]} ticket {i}\nMaya Cohen, {regions[i / 2 % 4]}",
            ["label"] = labels[i % 2],
            ["region"] = i >= 78 ? "Atlantis" : regions[i / 2 % 4],
        }));
    }

    [Fact]
    public void The_json_has_the_agreed_keys_and_the_audit_finds_the_biased_region()
    {
        var report = BiasAudit.Of(new RegionBiased()).Data(Rows(), "region").MinGroupSize(10).Resamples(200).Run();
        using var json = JsonDocument.Parse(report.ToJson());
        var root = json.RootElement;
        foreach (var key in new[] { "groups", "max_gap", "flip_rate", "flip_rate_ci", "extraction", "findings", "demographic_parity_difference",
                     "equalized_odds_difference", "counterfactuals", "notes" })
            Assert.True(root.TryGetProperty(key, out _), key);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("extraction").ValueKind);
        Assert.Contains(root.GetProperty("notes").EnumerateArray(), n => n.GetString()!.StartsWith("extraction was not run", StringComparison.Ordinal));
        var atlantis = root.GetProperty("groups").EnumerateArray().Single(g => g.GetProperty("group").GetString() == "Atlantis");
        Assert.True(atlantis.GetProperty("too_small").GetBoolean());
        Assert.Equal("Westerlyn", root.GetProperty("max_gap").GetProperty("worst_group").GetString());
        // Westerlyn: half its tickets are billing, all called feedback -> accuracy 1/2; the others 1
        Assert.Equal(0.5, root.GetProperty("max_gap").GetProperty("value").GetDouble(), 12);
        Assert.Equal(2, root.GetProperty("flip_rate_ci").GetArrayLength());
        Assert.False(report.Passed);
        Assert.Contains(report.Findings, f => f.StartsWith("accuracy gap: Westerlyn", StringComparison.Ordinal));
        Assert.Contains(report.Findings, f => f.StartsWith("counterfactual place", StringComparison.Ordinal));
        Assert.DoesNotContain(report.Findings, f => f.StartsWith("counterfactual name", StringComparison.Ordinal));
        // place swaps: from Westerlyn (3 pairs each, billing tickets flip) and to Westerlyn (1 of 3 pairs, billing tickets flip)
        var place = report.Invariance!.ByAttribute.Single(a => a.Name == "place");
        var fromWesterlyn = report.Invariance.Outcomes.Where(o => o.Pair.Attribute == "place").ToList();
        Assert.Equal(fromWesterlyn.Count(o => o.Flipped) / (double)fromWesterlyn.Count, place.FlipRate.Estimate, 12);

        var dir = TempFolder.Fresh();
        report.Save(dir);
        Assert.Equal(report.ToJson(), File.ReadAllText(Path.Combine(dir, ReportFolder.JsonFile)));
        var html = File.ReadAllText(Path.Combine(dir, ReportFolder.HtmlFile));
        Assert.Contains("Worst pairs", html);
        Assert.True(report.Charts().Count >= 5);
    }

    [Fact]
    public void Without_a_group_column_only_counterfactuals_run_and_the_json_says_so()
    {
        var report = BiasAudit.Of(new RegionBiased()).Data(Rows()).Counterfactuals(CounterfactualLexicon.Default.Only("name")).Resamples(50).Run();
        using var json = JsonDocument.Parse(report.ToJson());
        Assert.Equal(0, json.RootElement.GetProperty("groups").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("max_gap").ValueKind);
        Assert.Equal(0, json.RootElement.GetProperty("flip_rate").GetDouble());
        Assert.Contains("no group column given", report.Notes[0]);
    }

    [Fact]
    public void A_row_without_the_group_column_is_an_error_naming_file_and_line()
    {
        var file = Path.Combine(TempFolder.Fresh(), "rows.jsonl");
        File.WriteAllLines(file, ["""{"text": "a", "label": "x", "region": "n"}""", """{"text": "b", "label": "y"}"""]);
        var e = Assert.Throws<DataFormatException>(() => BiasAudit.Of(new RegionBiased()).Data(Dataset.FromJsonl(file), "region"));
        Assert.Equal($"{file}:2: the row has no \"region\" (the --group column); columns: text, label", e.Message);
    }
}
