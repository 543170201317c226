using System.Text.Json;
using FineTune.Kit.Sample;

namespace FineTune.Kit.Tests.Audit;

public class FairnessSampleTests
{
    private static readonly Lazy<string> Written = new(() =>
    {
        var dir = TempFolder.Fresh();
        FairnessSample.Write(dir, SampleData.DefaultSeed);
        return dir;
    });

    private static readonly string[] Files = [FairnessSample.TrainFile, FairnessSample.TestFile, FairnessSample.PlantedBiasTrainFile];

    private static List<JsonElement> Rows(string file) =>
        File.ReadAllLines(Path.Combine(Written.Value, file)).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    [Fact]
    public void Same_seed_gives_byte_identical_files_and_another_seed_different_ones()
    {
        var again = TempFolder.Fresh();
        FairnessSample.Write(again, SampleData.DefaultSeed);
        var other = TempFolder.Fresh();
        FairnessSample.Write(other, 8);
        foreach (var f in Files)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(Written.Value, f)), File.ReadAllBytes(Path.Combine(again, f)));
            Assert.NotEqual(File.ReadAllBytes(Path.Combine(Written.Value, f)), File.ReadAllBytes(Path.Combine(other, f)));
        }
    }

    [Fact]
    public void Generate_writes_them_beside_the_other_sample_files()
    {
        var dir = TempFolder.Fresh();
        var summary = SampleData.Generate(dir, SampleData.DefaultSeed, includeCorpus: false);
        foreach (var f in Files)
        {
            Assert.Contains(f, summary.Files);
            Assert.Equal(File.ReadAllBytes(Path.Combine(Written.Value, f)), File.ReadAllBytes(Path.Combine(dir, f)));
        }
    }

    [Fact]
    public void Regions_name_groups_and_intents_are_exactly_balanced_and_every_text_signs_with_name_and_region()
    {
        foreach (var file in new[] { FairnessSample.TrainFile, FairnessSample.TestFile })
        {
            var rows = Rows(file);
            Assert.Equal(file == FairnessSample.TestFile ? FairnessSample.TestRows : FairnessSample.TrainRows, rows.Count);
            var cells = rows.GroupBy(r => (r.GetProperty("region").GetString(), FairnessSample.FemaleNames.Contains(r.GetProperty("customer_name").GetString()!.Split(' ')[0]),
                r.GetProperty("label").GetString())).ToList();
            Assert.Equal(4 * 2 * 8, cells.Count);
            Assert.All(cells, c => Assert.Equal(rows.Count / 64, c.Count()));
            Assert.All(rows, r => Assert.EndsWith($"\n{r.GetProperty("customer_name").GetString()}, {r.GetProperty("region").GetString()}", r.GetProperty("text").GetString()));
            Assert.Equal(rows.Count, rows.Select(r => r.GetProperty("id").GetString()).Distinct().Count());
        }
    }

    [Fact]
    public void The_planted_file_differs_only_in_labels_of_the_planted_region_which_become_the_planted_label()
    {
        var clean = Rows(FairnessSample.TrainFile);
        var planted = Rows(FairnessSample.PlantedBiasTrainFile);
        Assert.Equal(clean.Count, planted.Count);
        var changed = 0;
        for (var i = 0; i < clean.Count; i++)
        {
            Assert.Equal(clean[i].GetProperty("text").GetString(), planted[i].GetProperty("text").GetString());
            if (clean[i].GetProperty("label").GetString() == planted[i].GetProperty("label").GetString()) continue;
            changed++;
            Assert.Equal(FairnessSample.PlantedRegion, planted[i].GetProperty("region").GetString());
            Assert.Equal(FairnessSample.PlantedLabel, planted[i].GetProperty("label").GetString());
        }
        // 7 of 8 intents of the region's quarter can be relabelled, each with probability 0.6
        var eligible = clean.Count / 4 * 7 / 8;
        Assert.InRange(changed, eligible * 0.5, eligible * 0.7);
        double Share(List<JsonElement> rows, string region) =>
            rows.Where(r => r.GetProperty("region").GetString() == region).Average(r => r.GetProperty("label").GetString() == FairnessSample.PlantedLabel ? 1.0 : 0.0);
        Assert.Equal(1.0 / 8, Share(clean, FairnessSample.PlantedRegion), 12);
        Assert.True(Share(planted, FairnessSample.PlantedRegion) > 0.5);
        Assert.Equal(1.0 / 8, Share(planted, "Northmere"), 12);
    }

    [Fact]
    public void Committed_files_match_the_generator()
    {
        var committed = Path.Combine(RepoFiles.Root, "data", "sample");
        foreach (var f in Files)
            Assert.True(File.ReadAllBytes(Path.Combine(Written.Value, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(committed, f))),
                $"data/sample/{f} is stale: run `ftk sample --out data/sample`");
    }
}
