using FineTune.Kit.Data;
using FineTune.Kit.Data.Curation;

namespace FineTune.Kit.Tests.Data;

public class LabelTests
{
    [Fact]
    public void Labels_are_trimmed_case_folded_and_typos_mapped()
    {
        var rule = new NormalizeLabelsRule(["billing", "bug", "account"], new Dictionary<string, string> { ["acct"] = "account" });
        Assert.Equal("billing", rule.Normalize("  Billing "));
        Assert.Equal("billing", rule.Normalize("biling"));   // one deletion away
        Assert.Equal("account", rule.Normalize("ACCT"));     // explicit mapping
        Assert.Null(rule.Normalize("shipping"));              // nothing close
        var outcome = rule.Apply(Dataset.FromTexts(["a", "b", "c"], ["Bug ", "shipping", "bug"]).Rows);
        Assert.Equal(["bug", "bug"], outcome.Kept.Select(r => r["label"]));
        Assert.Equal([(1, ChangeKind.Modified), (2, ChangeKind.Removed)], outcome.Changes.Select(c => (c.Line, c.Kind)));
        Assert.Equal("unknown label 'shipping'", outcome.Changes[1].Reason);
    }

    [Fact]
    public void Ambiguous_typo_is_not_guessed()
    {
        var rule = new NormalizeLabelsRule(["cat", "car"], maxEditDistance: 1);
        Assert.Null(rule.Normalize("caz")); // one edit from both
        Assert.Equal(3, NormalizeLabelsRule.EditDistance("kitten", "sitting"));
    }

    [Fact]
    public void Conflicting_labels_on_the_same_text_are_found()
    {
        var rows = Dataset.FromTexts(["Refund please", "refund  PLEASE", "Refund please", "other"], ["billing", "bug", "billing", "bug"]).Rows;
        var dropAll = new LabelConflictRule().Apply(rows);
        Assert.Equal([4], dropAll.Kept.Select(r => r.Line));
        Assert.Contains("'billing' on lines 1/3", Assert.Single(dropAll.Notes));
        var majority = new LabelConflictRule(resolution: ConflictResolution.KeepMajority).Apply(rows);
        Assert.Equal([1, 3, 4], majority.Kept.Select(r => r.Line));
        Assert.Equal(4, new LabelConflictRule(resolution: ConflictResolution.ReportOnly).Apply(rows).Kept.Count);
    }

    [Fact]
    public void Class_cap_keeps_at_most_n_per_label_reproducibly()
    {
        var labels = Enumerable.Repeat("a", 10).Concat(Enumerable.Repeat("b", 3)).ToList();
        var rows = Dataset.FromTexts(labels.Select((_, i) => $"t{i}"), labels).Rows;
        var first = new CapClassSizeRule(4, seed: 1).Apply(rows);
        Assert.Equal(4, first.Kept.Count(r => r["label"] == "a"));
        Assert.Equal(3, first.Kept.Count(r => r["label"] == "b"));
        Assert.Equal(first.Kept.Select(r => r.Line), new CapClassSizeRule(4, seed: 1).Apply(rows).Kept.Select(r => r.Line));
    }

    [Fact]
    public void Naive_bayes_matches_hand_computed_posterior()
    {
        // a a b -> X, b c -> Y; alpha 1, vocabulary {a, b, c} plus one unseen slot = 4
        // P(a|X) = (2+1)/(3+4) = 3/7, P(a|Y) = (0+1)/(2+4) = 1/6, equal priors -> P(X|"a") = (3/7)/(3/7 + 1/6) = 18/25
        var nb = new NaiveBayesClassifier().Fit(["a a b", "b c"], ["X", "Y"]);
        var p = nb.PredictProbabilities("a");
        Assert.Equal(18.0 / 25, p[0], 12);
        Assert.Equal(7.0 / 25, p[1], 12);
    }

    [Fact]
    public void Confident_learning_on_a_hand_made_matrix()
    {
        string[] labels = ["A", "A", "A", "B", "B"];
        double[][] p = [[.9, .1], [.8, .2], [.15, .85], [.3, .7], [.1, .9]];
        // t_A = (.9 + .8 + .15) / 3 = .6167, t_B = (.7 + .9) / 2 = .8; row 2 is confidently B, row 3 is confidently nothing
        var issue = Assert.Single(ConfidentLearning.FindIssues(labels, p, ["A", "B"]));
        Assert.Equal((2, "A", "B", 0.15), (issue.Index, issue.GivenLabel, issue.SuggestedLabel, issue.SelfConfidence));
    }

    [Fact]
    public void Baseline_finds_planted_label_flips()
    {
        var random = new Random(4);
        string[] billing = ["invoice", "refund", "charge", "payment", "bill", "price"];
        string[] bug = ["crash", "error", "freeze", "button", "broken", "screen"];
        var texts = new List<string>();
        var labels = new List<string>();
        for (int i = 0; i < 120; i++)
        {
            bool isBilling = i % 2 == 0;
            var words = isBilling ? billing : bug;
            texts.Add(string.Join(' ', Enumerable.Range(0, 6).Select(_ => words[random.Next(words.Length)])));
            labels.Add(isBilling ? "billing" : "bug");
        }
        int[] flipped = [10, 33, 64, 97];
        foreach (var i in flipped) labels[i] = labels[i] == "billing" ? "bug" : "billing";
        var outcome = new LabelNoiseRule(folds: 5).Apply(Dataset.FromTexts(texts, labels).Rows);
        Assert.Equal(flipped.Select(i => i + 1).Order(), outcome.Changes.Select(c => c.Line).Order());
        Assert.All(outcome.Changes, c => Assert.Equal(ChangeKind.Modified, c.Kind));
        Assert.Equal("true", outcome.Kept[10]["label_issue"]);
    }

    [Fact]
    public void User_probabilities_are_used_by_line()
    {
        var data = Dataset.FromTexts(["x", "y", "z", "w", "v"], ["A", "A", "A", "B", "B"]);
        double[][] p = [[.9, .1], [.8, .2], [.15, .85], [.3, .7], [.1, .9]];
        var rule = new LabelNoiseRule(["A", "B"], data.Rows.Select((r, i) => (r.Line, p[i])).ToDictionary(x => x.Line, x => x.Item2), remove: true);
        var outcome = rule.Apply(data.Rows);
        Assert.Equal(3, Assert.Single(outcome.Changes).Line);
        Assert.Equal(4, outcome.Kept.Count);
    }

    [Fact]
    public void Script_share_and_stop_word_guess()
    {
        Assert.Equal(1.0, LanguageFilterRule.ScriptShare("Grüße aus Köln", Script.Latin));
        Assert.Equal(0.5, LanguageFilterRule.ScriptShare("abc где", Script.Latin)!.Value, 12);
        Assert.Null(LanguageFilterRule.ScriptShare("1234 !!", Script.Latin));
        Assert.Equal("de", LanguageFilterRule.GuessLanguage("Ich habe das Passwort vergessen und kann mich nicht anmelden"));
        Assert.Equal("en", LanguageFilterRule.GuessLanguage("I forgot my password and I can not log in"));
        Assert.Null(LanguageFilterRule.GuessLanguage("password reset")); // too short to judge
        var rule = new LanguageFilterRule(languages: ["en"]);
        Assert.Contains("Latin", rule.RemovalReason(new Example(new() { ["text"] = "Я забыл свой пароль" }, 1)));
        Assert.Contains("'de'", rule.RemovalReason(new Example(new() { ["text"] = "Ich habe das Passwort vergessen und kann mich nicht anmelden" }, 1)));
        Assert.Null(rule.RemovalReason(new Example(new() { ["text"] = "reset pwd" }, 1)));
    }
}
