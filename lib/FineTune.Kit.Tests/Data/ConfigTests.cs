using FineTune.Kit;
using FineTune.Kit.Data.Curation;

namespace FineTune.Kit.Tests.Data;

public class ConfigTests
{
    [Fact]
    public void Config_builds_the_rules_in_order_with_parameters()
    {
        var config = CurationConfig.Parse("""
        {
          // comments are allowed
          "label_column": "label",
          "rules": [
            {"rule": "normalize_unicode", "form": "NFC"},
            {"rule": "strip_html"},
            {"rule": "drop_near_duplicates", "threshold": 0.9, "shingle_size": 3, "unit": "word", "permutations": 64},
            {"rule": "normalize_labels", "labels": ["billing", "bug"], "mapping": {"invoice": "billing"}},
            {"rule": "redact_pii", "kinds": ["email", "ip"]},
            {"rule": "cap_class_size", "max": 10}
          ],
          "augment": {"copies": 2, "word_dropout": 0.05}
        }
        """);
        Assert.Equal(["normalize_unicode", "strip_html", "drop_near_duplicates", "normalize_labels", "redact_pii", "cap_class_size"],
            config.Pipeline.Rules.Select(r => r.Name));
        var near = (NearDuplicateRule)config.Pipeline.Rules[2];
        Assert.Equal(new NearDuplicateOptions(0.9, 3, ShingleUnit.Word, 64), near.Options);
        Assert.Equal(PiiKind.Email | PiiKind.Ip, ((PiiRedactionRule)config.Pipeline.Rules[4]).Kinds);
        Assert.Equal(2, config.Augment!.Copies);
    }

    [Theory]
    [InlineData("""{"rules":[{"rule":"strip_htm"}]}""", "rules[0]: unknown rule 'strip_htm'")]
    [InlineData("""{"rules":[{"rule":"filter_length","min_char":3}]}""", "rules[0]: unknown key 'min_char'")]
    [InlineData("""{"rules":[{"rule":"filter_length","min_chars":"3"}]}""", "'min_chars' must be an integer")]
    [InlineData("""{"rule":[]}""", "'rules' must be a list")]
    [InlineData("""{"rules":[], "extra": 1}""", "unknown key 'extra'")]
    [InlineData("""{"rules": [""", "invalid JSON")]
    public void Config_mistakes_are_named(string json, string expected)
    {
        var e = Assert.Throws<DataFormatException>(() => CurationConfig.Parse(json, "cfg.json"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("cfg.json", e.Message);
    }
}
