using FineTune.Kit.Data;
using FineTune.Kit.Data.Curation;

namespace FineTune.Kit.Tests.Data;

public class StreamingCurationTests
{
    private static Dataset Messy() => Dataset.FromTexts(
    [
        "<p>Hello   <b>world</b></p>", "Hello world", "hello, WORLD!", "", "   ", "Ｆｕｌｌｗｉｄｔｈ text",
        "Mail me at jane.doe@example.com please", "short", "a genuinely different sentence about invoices",
        "A genuinely different sentence about invoices.", "tail row",
    ]);

    private static CurationPipeline Pipeline() => new CurationPipeline()
        .NormalizeUnicode().StripHtml().CollapseWhitespace().RedactPii().DropEmpty("text").FilterLength(minChars: 6)
        .DropDuplicates(nearThreshold: null);

    [Fact]
    public void Streaming_keeps_and_changes_exactly_what_the_in_memory_run_does_for_row_rules_and_exact_duplicates()
    {
        var data = Messy();
        var batch = Pipeline().Run(data);
        var kept = new List<Example>();
        var summary = Pipeline().RunStreaming(data.Rows, kept.Add);
        Assert.Equal(batch.Data.Rows.Select(r => (r.Line, r.ToJson())), kept.Select(r => (r.Line, r.ToJson())));
        Assert.Equal(data.Count, summary.InputRows);
        Assert.Equal(kept.Count, summary.OutputRows);
        Assert.Equal(batch.Report.Rules.Select(r => (r.Name, r.Removed, r.Modified)), summary.Rules.Select(r => (r.Name, r.Removed, r.Modified)));
        var exact = summary.Rules.Single(r => r.Name == "drop_exact_duplicates");
        Assert.Equal("exact duplicate of line 1", exact.Examples[0].Reason);   // "Hello world" (line 2) repeats line 1 after cleaning
        Assert.True(exact.Removed >= 2);
    }

    [Fact]
    public void Streaming_near_duplicates_remove_what_the_in_memory_clusters_remove_judged_against_earlier_rows()
    {
        var texts = SyntheticTexts.Generate(3000, seed: 7);
        var data = Dataset.FromTexts(texts);
        var options = new NearDuplicateOptions(Threshold: 0.8, VerifyExact: false);
        var batchRemoved = new NearDuplicateRule(options).Apply(data.Rows).Changes.Select(c => c.Line).ToHashSet();
        var stage = new NearDuplicateRule(options).Begin();
        var streamRemoved = new HashSet<int>();
        var reasons = new List<string>();
        foreach (var row in data.Rows)
            if (stage.Process(row) is (null, { } change))
            {
                streamRemoved.Add(change.Line);
                reasons.Add(change.Reason);
            }
        Assert.True(batchRemoved.Count > 100, $"the generated data plants near duplicates; found {batchRemoved.Count}");
        // a row similar to an earlier row is in that row's cluster and is not its first member, so the in-memory run removes it too
        Assert.Subset(batchRemoved, streamRemoved);
        // the in-memory run also removes rows joined to a cluster only through later rows: rare
        Assert.True(streamRemoved.Count >= 0.97 * batchRemoved.Count, $"stream removed {streamRemoved.Count} of {batchRemoved.Count}");
        Assert.All(reasons, r => Assert.Matches(@"^near duplicate of line \d+ \(Jaccard (0\.\d\d|1\.00), MinHash estimate\)$", r));
        Assert.Contains(stage.Notes, n => n.StartsWith("3000 rows: "));
    }

    [Fact]
    public void Copies_and_empty_texts_are_matched_by_signature_without_walking_the_buckets()
    {
        // every copy shares every LSH bucket: indexed, each would compare with all earlier copies (quadratic)
        var rows = Dataset.FromTexts(Enumerable.Repeat("the same ticket text again", 300).Concat(Enumerable.Repeat("", 300))).Rows;
        var stage = new NearDuplicateRule().Begin();
        var removed = rows.Select(stage.Process).Where(o => o.Kept is null).Select(o => o.Change!.Reason).ToList();
        Assert.Equal(598, removed.Count);
        Assert.Equal(299, removed.Count(r => r == "near duplicate of line 1 (Jaccard 1.00, MinHash estimate)"));
        Assert.Equal(299, removed.Count(r => r == "near duplicate of line 301 (Jaccard 1.00, MinHash estimate)"));
        Assert.Contains(stage.Notes, n => n.StartsWith("600 rows: 2 indexed, 598 with the signature of an earlier row") && n.EndsWith(", 0 candidate comparisons"));
    }

    [Fact]
    public void Rules_that_need_every_row_are_refused_by_name()
    {
        var pipeline = new CurationPipeline().StripHtml().CapClassSize(10).ResolveLabelConflicts();
        Assert.Equal(["cap_class_size", "label_conflicts"], pipeline.NonStreamingRules());
        var e = Assert.Throws<ArgumentException>(() => pipeline.RunStreaming([], _ => { }));
        Assert.Contains("cap_class_size", e.Message);
    }

    [Fact]
    public void Rows_stream_from_a_parquet_file_through_curation_without_loading_the_file()
    {
        using var dir = new TempFolder();
        var path = dir["in.parquet"];
        Messy().SaveParquet(path, rowGroupSize: 3);
        var kept = new List<Example>();
        var summary = Pipeline().RunStreaming(Dataset.Stream(path), kept.Add);
        Assert.Equal(Pipeline().Run(Messy()).Data.Rows.Select(r => r.ToJson()), kept.Select(r => r.ToJson()));
        Assert.Equal(11, summary.InputRows);
    }
}
