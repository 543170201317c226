using System.Text.Json;
using FineTune.Kit.Explain;
using FineTune.Kit.Plots;

namespace FineTune.Kit.Tests.Explain;

public class AttributionOutputTests
{
    private static Attribution Sample() =>
        new("kernel_shap", ["The", "<b>film</b>", "was", "dull"], [0.1, 0.9, 0.0, -0.6], -1.0, -0.6)
        {
            Target = "log p(' positive')",
            Evaluations = 16,
            Samples = 14,
            Diagnostics = new Dictionary<string, double> { ["fidelity_r2"] = 0.5, ["bad"] = double.NaN },
        };

    [Fact]
    public void Json_has_the_documented_keys()
    {
        using var doc = JsonDocument.Parse(Sample().ToJson());
        var root = doc.RootElement;
        Assert.Equal(new[] { "The", "<b>film</b>", "was", "dull" }, root.GetProperty("tokens").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(new[] { 0.1, 0.9, 0.0, -0.6 }, root.GetProperty("attributions").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal(-1.0, root.GetProperty("base_value").GetDouble());
        Assert.Equal(-0.6, root.GetProperty("full_value").GetDouble());
        Assert.Equal("kernel_shap", root.GetProperty("method").GetString());
        Assert.Equal(16, root.GetProperty("evaluations").GetInt32());
        Assert.Equal(0.5, root.GetProperty("fidelity_r2").GetDouble());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("bad").ValueKind);
    }

    [Fact]
    public void Json_round_trips_through_a_file()
    {
        using var dir = new TempFolder();
        var path = Path.Combine(dir["attribution"], "report.json");
        {
            var a = Sample();
            a.Save(dir["attribution"]);
            var b = Attribution.FromJson(File.ReadAllText(path), path);
            Assert.Equal(a.Features, b.Features);
            Assert.Equal(a.Values, b.Values);
            Assert.Equal((a.BaseValue, a.FullValue, a.Method, a.Target), (b.BaseValue, b.FullValue, b.Method, b.Target));
            Assert.Equal((16, 14), (b.Evaluations, b.Samples));
            Assert.Equal(0.5, b.Diagnostics["fidelity_r2"]);
            Assert.True(double.IsNaN(b.Diagnostics["bad"]));
        }
    }

    [Fact]
    public void Malformed_json_names_the_problem()
    {
        var e = Assert.Throws<DataFormatException>(() => Attribution.FromJson("{\"tokens\":[\"a\"],\"attributions\":[1,2]}", "x.json"));
        Assert.Contains("x.json", e.Message);
        Assert.Contains("1 tokens but 2 attributions", e.Message);
        Assert.Throws<DataFormatException>(() => Attribution.FromJson("{\"tokens\":[\"a\"],\"attributions\":[1]}"));
        Assert.Throws<DataFormatException>(() => Attribution.FromJson("not json"));
    }

    [Fact]
    public void Heatmap_shades_by_sign_encodes_text_and_draws_the_value_bar()
    {
        var html = TokenHeatmap.Html(Sample());
        Assert.Contains("title=\"&lt;b&gt;film&lt;/b&gt;: 0.9\"", html);
        Assert.Contains("rgba(214,39,40,0.850)", html);        // the largest positive value, full red
        Assert.Contains("rgba(31,119,180,0.567)", html);       // −0.6 of max 0.9, blue
        Assert.DoesNotContain("<b>film", html);
        Assert.Contains("base -1", html);
        Assert.Contains("f(x) -0.6", html);
        Assert.Contains("<svg", html);
    }

    [Fact]
    public void Heatmap_reproduces_the_source_text_between_features()
    {
        var text = "Not bad,  really";
        var f = FeatureSet.FromWords(text, [new("Not", 0, 3), new(" bad", 3, 7), new(",", 7, 8), new("  really", 8, 16)]);
        var g = new Game(f.Count, z => z[0] && z[1] ? 1 : 0);
        var a = new ExactShapley().Explain(f, g.Evaluate);
        var html = TokenHeatmap.Text(a);
        // with the markup removed, the original text (including the double space) remains
        var plain = System.Net.WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Replace(html, "<[^>]+>", ""));
        Assert.Equal(text, plain);
        Assert.Equal(4, System.Text.RegularExpressions.Regex.Matches(html, "<span ").Count);
    }

    [Fact]
    public void Charts_render_to_html()
    {
        var a = Sample();
        var bars = HtmlPage.ChartFragment(a.Chart());
        Assert.Contains("\"type\":\"bar\"", bars);
        Assert.Contains("#d62728", bars);

        float[][] head = [[1f, 0f], [0.5f, 0.5f]];
        var attention = new[] { new[] { head, head } };
        var grid = HtmlPage.ChartFragment(AttributionCharts.HeadGrid(attention, ["a", "a"]));
        Assert.Contains("\"grid\"", grid);
        Assert.Contains("L0 H1", grid);
        var heat = HtmlPage.ChartFragment(AttributionCharts.RolloutHeatmap(attention, ["a", "b"]));
        Assert.Contains("heatmap", heat);

        var page = a.ToHtml();
        Assert.Contains("kernel_shap", page);
    }

    [Fact]
    public void Logit_lens_reports_where_the_target_settles_and_draws()
    {
        var lens = new LogitLensResult(" Paris",
        [
            new(0, " the", 0.2, 0.01), new(1, " Paris", 0.3, 0.3), new(2, " France", 0.4, 0.2),
            new(3, " Paris", 0.6, 0.6), new(4, " Paris", 0.9, 0.9),
        ], position: "last prompt token");
        Assert.Equal(3, lens.SettlesAt());
        Assert.Equal(5, lens.TableRows().Count());
        Assert.Contains("\" France\"", HtmlPage.ChartFragment(lens.Chart()));
        Assert.ThrowsAny<ArgumentException>(() => new LogitLensResult("x", [new(1, "a", 0.5, 0.5), new(0, "b", 0.5, 0.5)]));
        Assert.ThrowsAny<ArgumentException>(() => new LogitLensResult("x", [new(0, "a", 1.5, 0.5)]));

        var other = new LogitLensResult(" France", [new(0, " a", 0.1, 0.1), new(1, " b", 0.2, 0.1), new(2, " c", 0.3, 0.1),
            new(3, " d", 0.4, 0.1), new(4, " France", 0.5, 0.5)], position: "capital");
        var grid = HtmlPage.ChartFragment(LogitLensResult.GridChart([lens, other]));
        Assert.Contains("\"texttemplate\":\"%{text}\"", grid);
        Assert.Contains("\"x\":[\"last prompt token\",\"capital\"]", grid);
        var shorter = new LogitLensResult(" France", [new(0, " a", 0.1, 0.1)]);
        Assert.ThrowsAny<ArgumentException>(() => LogitLensResult.GridChart([lens, shorter]));
    }

    [Fact]
    public void Dataset_summary_ranks_features_per_class_by_mean_attribution()
    {
        var items = new (Attribution, string)[]
        {
            (new Attribution("m", ["Good", "film"], [1.0, 0.1], 0, 1.1), "pos"),
            (new Attribution("m", ["good", "plot", "film"], [3.0, 0.5, -0.1], 0, 3.4), "pos"),
            (new Attribution("m", ["bad", "film"], [-2.0, 0.2], 0, -1.8), "neg"),
            (new Attribution("m", ["bad", "plot"], [-1.0, 0.0], 0, -1.0), "neg"),
        };
        var summary = AttributionSummary.TopFeaturesPerClass(items, top: 5, minOccurrences: 2);
        Assert.Equal(new[] { "neg", "pos" }, summary.Keys);
        Assert.Equal(new[] { "good", "film" }, summary["pos"].Select(f => f.Feature));
        Assert.Equal(2.0, summary["pos"][0].MeanAttribution, 12);
        Assert.Equal(2, summary["pos"][0].Occurrences);
        Assert.Equal(-1.5, Assert.Single(summary["neg"]).MeanAttribution, 12);
        var chart = HtmlPage.ChartFragment(AttributionCharts.TopFeatures(summary));
        Assert.Contains("\"orientation\":\"h\"", chart);
        Assert.Contains("xaxis2", chart);
    }
}
