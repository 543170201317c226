using System.Text.Json;
using System.Text.RegularExpressions;
using FineTune.Kit.Sample;

namespace FineTune.Kit.Tests.Sample;

public class HardNegativeTests
{
    private static readonly Lazy<List<(string Prompt, string Chosen, string Rejected, string Kind)>> Rows = new(() =>
    {
        var dir = TempFolder.Fresh();
        SampleData.Generate(dir, SampleData.DefaultSeed, includeCorpus: false);
        return File.ReadLines(Path.Combine(dir, SampleData.PreferencesFile)).Select(l => JsonDocument.Parse(l).RootElement)
            .Select(r => (r.GetProperty("prompt").GetString()!, r.GetProperty("chosen").GetString()!, r.GetProperty("rejected").GetString()!,
                r.GetProperty("negative_kind").GetString()!)).ToList();
    });

    [Fact]
    public void Every_row_names_its_negative_kind_and_about_half_are_hard()
    {
        var kinds = Rows.Value.Select(r => r.Kind).ToList();
        Assert.All(kinds, k => Assert.Contains(k, new[] { "brush_off", "short_off_topic", "wrong_intent", "wrong_reference", "wrong_product", "wrong_amount" }));
        foreach (var k in new[] { "brush_off", "short_off_topic", "wrong_intent", "wrong_reference", "wrong_product", "wrong_amount" })
            Assert.Contains(k, kinds);
        Assert.InRange(kinds.Count(k => k.StartsWith("wrong_")) / (double)kinds.Count, 0.4, 0.6);
    }

    [Fact]
    public void Hard_negatives_are_full_polite_replies_and_a_wrong_reference_is_a_number_the_ticket_does_not_have()
    {
        foreach (var (prompt, _, rejected, kind) in Rows.Value.Where(r => r.Kind.StartsWith("wrong_")))
        {
            Assert.Contains("Lumen Home Support", rejected);      // signed like a real reply
            if (kind != "wrong_reference") continue;
            var numbers = Regex.Matches(rejected, @"LH-\d{6}|LP\d{9}NL").Select(m => m.Value).ToList();
            Assert.NotEmpty(numbers);
            Assert.Contains(numbers, n => !prompt.Contains(n, StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public void A_wrong_product_negative_names_a_model_the_ticket_does_not()
    {
        var models = new[] { "Thermo 2", "Thermo Mini", "Thermo Pro", "Mesh AX3000", "Mesh Lite", "Mesh Pro 6E", "Cam Indoor", "Cam Outdoor",
            "Doorbell Cam", "Parcel Standard", "Parcel Express", "Parcel Locker" };
        foreach (var (prompt, _, rejected, _) in Rows.Value.Where(r => r.Kind == "wrong_product"))
            Assert.Contains(models, m => rejected.Contains(m) && !prompt.Contains(m, StringComparison.OrdinalIgnoreCase));
    }
}
