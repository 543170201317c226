using System.Text.Json.Nodes;
using FineTune.Kit.Text;

namespace FineTune.Kit.Tests.Text;

/// <summary>tokenizer.json layouts used by current models (Qwen 2, Llama 3), built from our own trained vocabulary.</summary>
public class HfVariantsTests
{
    [Fact]
    public void SplitRegexSequenceWithNfcAndTemplateBosIsHonoured()
    {
        var dir = TestCorpus.SaveToTemp(new TokenizerConfig());
        var path = Path.Combine(dir, "tokenizer.json");
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        // Qwen 2 / Llama 3 style: a Split with its own regex (here: digits one at a time), then ByteLevel without regex.
        root["pre_tokenizer"] = JsonNode.Parse("""
            {"type": "Sequence", "pretokenizers": [
              {"type": "Split", "pattern": {"Regex": "\\p{N}| ?\\p{L}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false},
              {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}]}
            """);
        root["normalizer"] = JsonNode.Parse("""{"type": "NFC"}""");
        root["post_processor"] = JsonNode.Parse("""
            {"type": "Sequence", "processors": [
              {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
              {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|im_start|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
               "pair": [], "special_tokens": {}}]}
            """);
        File.WriteAllText(path, root.ToJsonString());
        var tok = TextTokenizer.Load(dir);

        var digits = tok.Encode("4821");
        Assert.Equal(4, digits.Count);
        Assert.Equal(["4", "8", "2", "1"], digits.Select(id => tok.IdToToken(id)));
        // NFC: a decomposed é encodes exactly like the composed one.
        Assert.Equal(tok.Encode("caf\u00E9"), tok.Encode("cafe\u0301"));
        Assert.Equal(1, tok.BosId);
        Assert.Equal(1, tok.Encode("hi", addSpecialTokens: true)[0]);
    }

    [Fact]
    public void AddedTokensThatAreNotSpecialSurviveSkippingSpecials()
    {
        var dir = TestCorpus.SaveToTemp();
        var path = Path.Combine(dir, "tokenizer.json");
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        root["added_tokens"]!.AsArray().Add(JsonNode.Parse("""
            {"id": 5000, "content": "<tool_call>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": false}
            """));
        File.WriteAllText(path, root.ToJsonString());
        var tok = TextTokenizer.Load(dir);
        Assert.Equal(5001, tok.VocabSize);
        var ids = tok.Encode("<|im_start|><tool_call>x");
        Assert.Equal([1, 5000], ids.Take(2));
        Assert.Equal("<tool_call>x", tok.Decode(ids, skipSpecialTokens: true));
        Assert.False(tok.IsSpecial(5000));
    }

    [Fact]
    public void NonByteLevelTokenizerJsonFallsBackToTokenizerModelOrSaysWhy()
    {
        var dir = TestCorpus.SaveToTemp();
        var path = Path.Combine(dir, "tokenizer.json");
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        // Not byte-level (no ByteLevel step), so read as a SentencePiece-style BPE, with a pre-tokenizer the kit does not implement.
        root["pre_tokenizer"] = JsonNode.Parse("""{"type": "Whitespace"}""");
        root["decoder"] = JsonNode.Parse("""{"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]}""");
        File.WriteAllText(path, root.ToJsonString());
        var e = Assert.ThrowsAny<TokenizerFormatException>(() => TextTokenizer.FromTokenizerJson(path));
        Assert.Contains("pre_tokenizer 'Whitespace' is not supported", e.Message);
        // With vocab.json + merges.txt beside it, Load still refuses rather than guessing: the tokenizer.json is authoritative.
        Assert.ThrowsAny<TokenizerFormatException>(() => TextTokenizer.Load(dir));
    }
}
