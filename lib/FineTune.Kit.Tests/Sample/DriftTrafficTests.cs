using FineTune.Kit.Sample;

namespace FineTune.Kit.Tests.Sample;

/// <summary>The drift scenario's traffic files: seeded, readable, and shifted only where they say so.</summary>
public class DriftTrafficTests
{
    private static readonly Lazy<string> defaultSet = new(() =>
    {
        var dir = TempFolder.Fresh();
        SampleData.Generate(dir, SampleData.DefaultSeed, includeCorpus: false);
        return dir;
    });

    private static readonly string[] Files = [DriftTraffic.InDistributionFile, DriftTraffic.DriftFile];

    [Fact]
    public void The_same_seed_writes_byte_identical_traffic_and_another_seed_does_not()
    {
        var again = TempFolder.Fresh();
        SampleData.Generate(again, SampleData.DefaultSeed, includeCorpus: false);
        var other = TempFolder.Fresh();
        SampleData.Generate(other, 8, includeCorpus: false);
        foreach (var f in Files)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(defaultSet.Value, f)), File.ReadAllBytes(Path.Combine(again, f)));
            Assert.NotEqual(File.ReadAllBytes(Path.Combine(defaultSet.Value, f)), File.ReadAllBytes(Path.Combine(other, f)));
        }
    }

    [Fact]
    public void The_drift_file_shifts_half_way_and_the_in_distribution_file_never()
    {
        var calm = DriftTraffic.Read(Path.Combine(defaultSet.Value, DriftTraffic.InDistributionFile));
        var drift = DriftTraffic.Read(Path.Combine(defaultSet.Value, DriftTraffic.DriftFile));
        Assert.Equal(DriftTraffic.Requests, calm.Count);
        Assert.Equal(DriftTraffic.Requests, drift.Count);
        Assert.All(calm, r => Assert.Equal(TrafficRequest.InDistribution, r.Segment));
        Assert.All(calm, r => Assert.Contains(r.Label, SampleData.Intents));
        Assert.All(drift.Take(DriftTraffic.Requests / 2), r => Assert.Equal(TrafficRequest.InDistribution, r.Segment));
        Assert.All(drift.Skip(DriftTraffic.Requests / 2), r => Assert.Equal(TrafficRequest.Shifted, r.Segment));
        foreach (var rows in new[] { calm, drift })
            for (var i = 1; i < rows.Count; i++) Assert.True(rows[i].Time > rows[i - 1].Time, $"{rows[i].Id} is not after {rows[i - 1].Id}");

        // the shift: a new intent, a new product line, German, and longer messages
        var shifted = drift.Skip(DriftTraffic.Requests / 2).ToList();
        Assert.Contains(shifted, r => r.Label == DriftTraffic.PrivacyIntent);
        Assert.Contains(shifted, r => r.Text.Contains("Solar") || r.Text.Contains("Battery Wall"));
        Assert.Contains(shifted, r => r.Text.StartsWith("Guten Tag"));
        Assert.True(shifted.Average(r => r.Text.Length) > 1.3 * calm.Average(r => r.Text.Length));
    }

    [Fact]
    public void A_malformed_line_is_refused_naming_the_file_and_line()
    {
        using var tmp = new TempFolder();
        var path = Path.Combine(tmp.Path, "traffic.jsonl");
        File.WriteAllLines(path, [File.ReadLines(Path.Combine(defaultSet.Value, DriftTraffic.DriftFile)).First(), "{\"id\": \"r-2\", \"text\": \"hi\"}"]);
        var e = Assert.Throws<InvalidDataException>(() => DriftTraffic.Read(path));
        Assert.Contains("traffic.jsonl:2", e.Message);
    }
}
