using System.Text.Json.Nodes;
using FineTune.Kit.Data;
using FineTune.Kit.Data.Curation;

namespace FineTune.Kit.Tests.Data;

public class SplitTests
{
    private static Dataset Labelled(int n, Func<int, string> label, Func<int, string>? group = null) =>
        Dataset.FromObjects(Enumerable.Range(0, n).Select(i =>
        {
            var o = new JsonObject { ["text"] = $"row {i}", ["label"] = label(i) };
            if (group is not null) o["customer"] = group(i);
            return o;
        }));

    [Fact]
    public void Split_sizes_follow_the_fractions_and_cover_every_row_once()
    {
        var data = Labelled(100, i => "x");
        var (train, val, test) = data.Split(0.8, 0.1, 0.1, seed: 1);
        Assert.Equal((80, 10, 10), (train.Count, val.Count, test.Count));
        Assert.Equal(Enumerable.Range(1, 100), train.Rows.Concat(val.Rows).Concat(test.Rows).Select(r => r.Line).Order());
    }

    [Fact]
    public void Stratified_split_keeps_label_shares_in_each_split()
    {
        var data = Labelled(200, i => i % 10 < 7 ? "common" : i % 10 < 9 ? "middle" : "rare"); // 140 / 40 / 20
        var (train, val, test) = data.Split(0.5, 0.25, 0.25, stratifyBy: "label", seed: 3);
        foreach (var (part, share) in new[] { (train, 0.5), (val, 0.25), (test, 0.25) })
        {
            Assert.Equal(140 * share, part.Rows.Count(r => r["label"] == "common"));
            Assert.Equal(40 * share, part.Rows.Count(r => r["label"] == "middle"));
            Assert.Equal(20 * share, part.Rows.Count(r => r["label"] == "rare"));
        }
    }

    [Fact]
    public void Group_split_never_puts_one_customer_in_two_splits()
    {
        var random = new Random(5);
        var sizes = Enumerable.Range(0, 60).Select(_ => random.Next(1, 8)).ToArray();
        var groupOf = sizes.SelectMany((size, g) => Enumerable.Repeat($"c{g}", size)).ToArray();
        var data = Labelled(groupOf.Length, i => "x", i => groupOf[i]);
        var splits = data.Split(0.8, 0.1, 0.1, groupBy: "customer", seed: 2);
        var owners = new[] { splits.Train, splits.Validation, splits.Test }
            .SelectMany((part, p) => part.Rows.Select(r => (Customer: r["customer"]!, Part: p)))
            .GroupBy(x => x.Customer).ToList();
        Assert.All(owners, g => Assert.Single(g.Select(x => x.Part).Distinct()));
        Assert.Equal(groupOf.Length, splits.Train.Count + splits.Validation.Count + splits.Test.Count);
        Assert.InRange(splits.Train.Count, 0.7 * groupOf.Length, 0.9 * groupOf.Length);
        Assert.True(splits.Validation.Count > 0 && splits.Test.Count > 0);
    }

    [Fact]
    public void Same_seed_same_split_other_seed_other_split()
    {
        var data = Labelled(50, i => i % 2 == 0 ? "a" : "b");
        var lines = (int seed) => data.Split(0.6, 0.2, 0.2, stratifyBy: "label", seed: seed).Test.Rows.Select(r => r.Line).ToList();
        Assert.Equal(lines(7), lines(7));
        Assert.NotEqual(lines(7), lines(8));
    }

    [Fact]
    public void Kfold_partitions_rows_and_respects_groups()
    {
        var data = Labelled(30, i => i % 3 == 0 ? "a" : "b", i => $"g{i / 3}");
        var folds = data.KFold(5, groupBy: "customer", seed: 1);
        Assert.Equal(5, folds.Count);
        Assert.Equal(Enumerable.Range(1, 30), folds.SelectMany(f => f.Validation.Rows).Select(r => r.Line).Order());
        Assert.All(folds, f => Assert.Equal(30, f.Train.Count + f.Validation.Count));
        Assert.All(folds, f => Assert.Empty(f.Train.Rows.Select(r => r["customer"]).Intersect(f.Validation.Rows.Select(r => r["customer"]))));
        Assert.All(folds, f => Assert.Equal(6, f.Validation.Count)); // 10 groups of 3 into 5 folds
    }

    [Fact]
    public void Bad_fractions_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => Labelled(5, _ => "a").Split(0.8, 0.3, 0.1));
        Assert.Throws<ArgumentException>(() => Labelled(5, _ => "a").KFold(1));
    }

    [Fact]
    public void Leakage_check_finds_exact_and_near_copies_across_splits()
    {
        var train = Dataset.FromTexts(["the printer on floor three is jammed again today", "refund my last invoice please", "unique train row"]);
        var val = Dataset.FromTexts(["Refund my last  invoice please", "unique validation row about shipping"]);
        var test = Dataset.FromTexts(["the printer on floor three is jammed again today!", "something else entirely here"]);
        var leaks = LeakageCheck.Find(new DatasetSplits(train, val, test));
        Assert.Contains(leaks, l => l is { Kind: "exact", SplitA: "train", LineA: 2, SplitB: "validation", LineB: 1 });
        Assert.Contains(leaks, l => l is { Kind: "near", SplitA: "train", LineA: 1, SplitB: "test", LineB: 1 });
        Assert.Equal(2, leaks.Count);
    }
}
