using System.Text;
using System.Text.Json.Nodes;
using FineTune.Kit.Data;
using FineTune.Kit.Data.Curation;

namespace FineTune.Kit.Tests.Data;

public class TextRuleTests
{
    [Fact]
    public void Nfc_composes_combining_characters()
    {
        var rule = new NormalizeUnicodeRule(NormalizationForm.FormC);
        var decomposed = "Cafe\u0301";
        Assert.Equal(5, decomposed.Length);
        Assert.Equal("Caf\u00E9", rule.Transform(decomposed));
        Assert.Equal("ﬁ", rule.Transform("ﬁ")); // NFC keeps compatibility ligatures
    }

    [Fact]
    public void Nfkc_folds_compatibility_forms_and_drops_invisible_characters()
    {
        var rule = new NormalizeUnicodeRule();
        Assert.Equal("fi 12 ABC", rule.Transform("ﬁ １２ ＡＢＣ"));
        Assert.Equal("zerowidth", rule.Transform("zero\u200Bwidth\u0007"));
        Assert.Equal("tab\tand\nnewline", rule.Transform("tab\tand\nnewline"));
    }

    [Fact]
    public void Html_nested_tags_entities_script_and_style()
    {
        var html = "<div class=\"x\"><p>Hello <b>big <i>bold</i></b> world</p><script>if (a<b) { document.write('</div>'); }</script>" +
                   "<style>p { color: red }</style><!-- note --><p>Fish &amp; chips &lt;3 &#8364;5 &eacute;</p></div>";
        Assert.Equal("Hello big bold world\n\nFish & chips <3 €5 é", StripHtmlRule.ToText(html).Replace("\n\n\n", "\n\n"));
    }

    [Fact]
    public void Html_escaped_tags_stay_text_and_plain_comparisons_are_not_tags()
    {
        Assert.Equal("use <b> for bold", StripHtmlRule.ToText("use &lt;b&gt; for bold"));
        Assert.Equal("if a < b and c > d", StripHtmlRule.ToText("if a < b and c > d"));
        Assert.Equal("line<br>", StripHtmlRule.ToText("line&lt;br&gt;"));
        Assert.Equal("one\ntwo", StripHtmlRule.ToText("one<br/>two"));
    }

    [Fact]
    public void Whitespace_collapses_runs_and_keeps_at_most_one_blank_line()
    {
        var keep = new CollapseWhitespaceRule();
        Assert.Equal("a b c\n\nd", keep.Transform("  a \t b\u00A0\u00A0c \n\n\n\n  d  "));
        Assert.Equal("a b c d", new CollapseWhitespaceRule(keepNewlines: false).Transform("a\n b\r\n\tc   d\n"));
    }

    [Fact]
    public void Transform_rules_record_before_and_after_and_leave_unchanged_rows_alone()
    {
        var rows = Dataset.FromTexts(["<b>x</b>", "plain"]).Rows;
        var outcome = new StripHtmlRule().Apply(rows);
        var change = Assert.Single(outcome.Changes);
        Assert.Equal((1, ChangeKind.Modified, "<b>x</b>", "x"), (change.Line, change.Kind, change.Before, change.After));
        Assert.Same(rows[1], outcome.Kept[1]);
        Assert.Equal("<b>x</b>", rows[0]["text"]); // input rows are not mutated
    }

    [Fact]
    public void Text_rules_reach_chat_message_contents_only()
    {
        var row = new Example(new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "<p>hi</p>" }, new JsonObject { ["role"] = "assistant", ["content"] = "ok" }),
            ["id"] = "<keep>",
        }, 1);
        var outcome = new StripHtmlRule().Apply([row]);
        Assert.Equal("hi", outcome.Kept[0].Fields["messages"]![0]!["content"]!.GetValue<string>());
        Assert.Equal("<keep>", outcome.Kept[0]["id"]);
    }

    [Fact]
    public void Drop_empty_checks_named_columns_and_empty_lists()
    {
        var rows = Dataset.FromObjects([
            new JsonObject { ["text"] = "ok" }, new JsonObject { ["text"] = " \n " }, new JsonObject { ["label"] = "x" },
            new JsonObject { ["text"] = null }, new JsonObject { ["messages"] = new JsonArray() },
        ]).Rows;
        var byText = new DropEmptyRule("text").Apply(rows);
        Assert.Equal([1], byText.Kept.Select(r => r.Line));
        Assert.Equal(["'text' is empty", "'text' is missing", "'text' is missing", "'text' is missing"], byText.Changes.Select(c => c.Reason));
        Assert.Equal("'messages' is an empty list", new DropEmptyRule("messages").RemovalReason(rows[4]));
        Assert.Equal([1], new DropEmptyRule().Apply(rows).Kept.Select(r => r.Line));
    }

    [Fact]
    public void Length_counts_user_perceived_characters()
    {
        var rule = new FilterLengthRule(minChars: 4, maxChars: 5);
        Assert.Equal("too short: 3 < 4 characters", rule.RemovalReason(Row("e\u0301e\u0301e\u0301"))); // 6 chars, 3 graphemes
        Assert.Null(rule.RemovalReason(Row("abcd")));
        Assert.Equal("too long: 6 > 5 characters", rule.RemovalReason(Row("abcdef")));
    }

    [Fact]
    public void Token_filter_uses_the_given_counter()
    {
        var words = new FilterTokenCountRule(2, 3);
        Assert.Equal("too few tokens: 1 < 2", words.RemovalReason(Row("one")));
        Assert.Null(words.RemovalReason(Row("one two three")));
        var chars = new FilterTokenCountRule(2, 3, s => s.Length); // any tokenizer plugs in
        Assert.Equal("too many tokens: 13 > 3", chars.RemovalReason(Row("one two three")));
    }

    [Fact]
    public void Exact_duplicates_ignore_case_and_spacing_and_keep_the_first()
    {
        var rows = Dataset.FromTexts(["Hello  World", "other", "hello world", "HELLO WORLD\n", "Hello World!"]).Rows;
        // with punctuation kept, "Hello World!" is a text of its own
        var outcome = new ExactDuplicateRule(normalization: new TextNormalization(RemovePunctuation: false)).Apply(rows);
        Assert.Equal([1, 2, 5], outcome.Kept.Select(r => r.Line));
        Assert.Equal(["exact duplicate of line 1", "exact duplicate of line 1"], outcome.Changes.Select(c => c.Reason));
        var cluster = Assert.Single(outcome.Clusters);
        Assert.Equal(1, cluster.KeptLine);
        Assert.Equal([3, 4], cluster.RemovedLines);
        // by default punctuation is removed before comparing, so it is one more copy of line 1
        var normalised = new ExactDuplicateRule().Apply(rows);
        Assert.Equal([1, 2], normalised.Kept.Select(r => r.Line));
        Assert.Equal([3, 4, 5], Assert.Single(normalised.Clusters).RemovedLines);
    }

    [Fact]
    public void Near_duplicates_removed_with_the_line_they_copy()
    {
        var rows = Dataset.FromTexts([
            "The quick brown fox jumps over the lazy dog near the river bank",
            "Completely unrelated sentence about invoices and refunds",
            "The quick brown fox jumps over the lazy dog near the river bank!",
            "The quick brown fox jumped over the lazy dog near the river bank",
        ]).Rows;
        var outcome = new NearDuplicateRule(new NearDuplicateOptions(Threshold: 0.8)).Apply(rows);
        Assert.Equal([1, 2], outcome.Kept.Select(r => r.Line));
        Assert.All(outcome.Changes, c => Assert.StartsWith("near duplicate of line 1", c.Reason));
        Assert.Equal(new[] { 3, 4 }, Assert.Single(outcome.Clusters).RemovedLines);
    }

    [Fact]
    public void Word_shingles_see_reordered_sentences_as_different()
    {
        var rows = Dataset.FromTexts([
            "alpha beta gamma delta epsilon zeta eta theta iota kappa",
            "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda",
            "kappa iota theta eta zeta epsilon delta gamma beta alpha",
        ]).Rows;
        // 3-word shingles: row 2 shares all 8 of row 1's and adds one: Jaccard 8/9; row 3 shares none
        var options = new NearDuplicateOptions(Threshold: 0.85, ShingleSize: 3, Unit: ShingleUnit.Word);
        var outcome = new NearDuplicateRule(options).Apply(rows);
        Assert.Equal([1, 3], outcome.Kept.Select(r => r.Line));
        Assert.Equal("near duplicate of line 1 (Jaccard 0.89)", Assert.Single(outcome.Changes).Reason);
    }

    private static Example Row(string text) => new(new JsonObject { ["text"] = text }, 1);
}
