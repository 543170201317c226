using FineTune.Kit.Explain;

namespace FineTune.Kit.Tests.Explain;

public class RuleSurrogateTests
{
    /// <summary>Rows of random words where the "model" says pos exactly when "good" occurs without "not".</summary>
    private static (string[] Texts, string[] Labels) Planted(int n, int seed)
    {
        var rng = new Random(seed);
        var noise = new[] { "film", "plot", "actor", "music", "story", "scene", "camera", "ending" };
        var texts = new string[n];
        var labels = new string[n];
        for (int i = 0; i < n; i++)
        {
            var words = noise.Where(_ => rng.NextDouble() < 0.5).ToList();
            bool good = rng.NextDouble() < 0.5, not = rng.NextDouble() < 0.5;
            if (good) words.Insert(rng.Next(words.Count + 1), "good");
            if (not) words.Insert(rng.Next(words.Count + 1), "not");
            texts[i] = string.Join(' ', words) + ".";
            labels[i] = good && !not ? "pos" : "neg";
        }
        return (texts, labels);
    }

    [Fact]
    public void Recovers_a_planted_rule_with_fidelity_one()
    {
        var (texts, labels) = Planted(400, 1);
        var tree = new RuleSurrogate().Seed(3).Fit(texts, labels);
        Assert.Equal(1.0, tree.Fidelity);
        Assert.Equal(1.0, tree.TrainFidelity);
        Assert.Equal(100, tree.HeldOutRows);
        var pos = Assert.Single(tree.Rules(), r => r.Label == "pos");
        Assert.Equal(new[] { "contains \"good\"", "not contains \"not\"" }, pos.Conditions.Order());
        Assert.Equal(1.0, pos.Purity);
        Assert.Equal("pos", tree.Predict("a GOOD film"));
        Assert.Equal("neg", tree.Predict("not a good film"));
        Assert.Contains("fidelity 100.0% on 100 held-out rows", tree.ToString());
    }

    [Fact]
    public void Depth_limits_the_tree_and_lowers_fidelity_when_the_rule_needs_more()
    {
        var (texts, labels) = Planted(400, 2);
        var stump = new RuleSurrogate().MaxDepth(1).Fit(texts, labels);
        Assert.Equal(2, stump.Rules().Count);
        Assert.True(stump.Fidelity < 1.0);
        Assert.ThrowsAny<ArgumentException>(() => new RuleSurrogate().MaxDepth(4));
    }

    [Fact]
    public void Handles_more_than_two_labels()
    {
        var rng = new Random(5);
        var rows = new List<IReadOnlySet<string>>();
        var labels = new List<string>();
        for (int n = 0; n < 300; n++)
        {
            var set = new HashSet<string>(new[] { "refund", "login", "hello", "thanks" }.Where(_ => rng.NextDouble() < 0.4));
            rows.Add(set);
            labels.Add(set.Contains("refund") ? "billing" : set.Contains("login") ? "account" : "other");
        }
        var tree = new RuleSurrogate().MaxDepth(2).Fit(rows, labels);
        Assert.Equal(1.0, tree.Fidelity);
        Assert.Equal(3, tree.Rules().Count);
        Assert.Equal("account", tree.Predict(new HashSet<string> { "login", "thanks" }));
    }

    [Fact]
    public void Mismatched_inputs_are_rejected()
    {
        Assert.ThrowsAny<ArgumentException>(() => new RuleSurrogate().Fit(["a", "b"], ["x"]));
    }
}
