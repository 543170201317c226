using System.Text.Json.Nodes;
using FineTune.Kit.Text;

namespace FineTune.Kit.Tests.Text;

public class TextTokenizerTests
{
    [Fact]
    public void LoaderReadsWhatTheTrainerWroteAndIdsMatchTheTrainersEncoding()
    {
        var tok = TextTokenizer.Load(TestCorpus.SaveToTemp());
        Assert.Equal(TestCorpus.Model.VocabSize, tok.VocabSize);
        foreach (var text in TestCorpus.Lines.Take(100).Concat(TestCorpus.Awkward))
            Assert.Equal(TestCorpus.Model.Encode(text), tok.Encode(text));
    }

    [Fact]
    public void ByteLevelRoundTripsAwkwardTextExactly()
    {
        var tok = TextTokenizer.Load(TestCorpus.SaveToTemp());
        foreach (var text in TestCorpus.Awkward)
            Assert.Equal(text, tok.Decode(tok.Encode(text)));
    }

    [Fact]
    public void VocabAndMergesGiveTheSameIdsAsTokenizerJson()
    {
        var dir = TestCorpus.SaveToTemp();
        var fromJson = TextTokenizer.FromTokenizerJson(Path.Combine(dir, "tokenizer.json"));
        var fromPair = TextTokenizer.FromVocabAndMerges(Path.Combine(dir, "vocab.json"), Path.Combine(dir, "merges.txt"));
        foreach (var text in TestCorpus.Awkward.Concat(TestCorpus.Lines.Take(50)))
            Assert.Equal(fromJson.Encode(text), fromPair.Encode(text));
        Assert.Equal(fromJson.SpecialTokens.OrderBy(kv => kv.Value), fromPair.SpecialTokens.OrderBy(kv => kv.Value));
    }

    [Fact]
    public void MergesWrittenAsPairArraysReadTheSame()
    {
        var dir = TestCorpus.SaveToTemp();
        var path = Path.Combine(dir, "tokenizer.json");
        var before = TextTokenizer.FromTokenizerJson(path);
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        var merges = root["model"]!["merges"]!.AsArray();
        var pairs = new JsonArray(merges.Select(m => (JsonNode)new JsonArray(m!.GetValue<string>().Split(' ').Select(s => (JsonNode)JsonValue.Create(s)!).ToArray())).ToArray());
        root["model"]!["merges"] = pairs;
        File.WriteAllText(path, root.ToJsonString());
        var after = TextTokenizer.FromTokenizerJson(path);
        foreach (var text in TestCorpus.Awkward) Assert.Equal(before.Encode(text), after.Encode(text));
    }

    [Fact]
    public void SpecialTokensAndRolesComeFromTheConfig()
    {
        var tok = TextTokenizer.Load(TestCorpus.SaveToTemp(new TokenizerConfig { BosToken = "<|im_start|>", EosToken = "<|im_end|>", PadToken = "<|endoftext|>", AddBosToken = true }));
        Assert.Equal(1, tok.BosId);
        Assert.Equal(2, tok.EosId);
        Assert.Equal(0, tok.PadId);
        Assert.Null(tok.UnkId);
        Assert.Equal(3, tok.SpecialTokens.Count);
        Assert.Equal(1, tok.TokenToId("<|im_start|>"));
        Assert.Equal("<|im_end|>", tok.IdToToken(2));
        var plain = tok.Encode("hello");
        Assert.Equal([1, .. plain], tok.Encode("hello", addSpecialTokens: true));
    }

    [Fact]
    public void RolesAreGuessedOnlyWithoutAConfig()
    {
        var dir = TestCorpus.SaveToTemp(new TokenizerConfig { EosToken = "<|im_end|>" });
        var withConfig = TextTokenizer.Load(dir);
        Assert.Null(withConfig.BosId);          // the config says no BOS; <|endoftext|> is not promoted to one
        Assert.Equal(2, withConfig.EosId);
        File.Delete(Path.Combine(dir, "tokenizer_config.json"));
        var without = TextTokenizer.Load(dir);
        Assert.Equal(0, without.BosId);         // GPT-2 convention: <|endoftext|> plays both roles
        Assert.Equal(0, without.EosId);
    }

    [Fact]
    public void SpecialTokensWrittenInTextMapToTheirIdsAndCanBeSkippedOnDecode()
    {
        var tok = TextTokenizer.Load(TestCorpus.SaveToTemp());
        var ids = tok.Encode("<|im_start|>user\nhi<|im_end|>");
        Assert.Equal(1, ids[0]);
        Assert.Equal(2, ids[^1]);
        Assert.Equal("<|im_start|>user\nhi<|im_end|>", tok.Decode(ids));
        Assert.Equal("user\nhi", tok.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void ByteLevelTokensUseTheGpt2Alphabet()
    {
        Assert.Equal('Ġ', ByteLevel.CharOf((byte)' '));
        Assert.Equal('Ċ', ByteLevel.CharOf((byte)'\n'));
        Assert.Equal('!', ByteLevel.CharOf((byte)'!'));
        Assert.Equal(256, ByteLevel.Alphabet.Distinct().Count());
        var tok = TextTokenizer.Load(TestCorpus.SaveToTemp());
        Assert.Equal(tok.TokenToId("Ġ"), tok.Encode(" ").Single());
    }

    [Fact]
    public void InMemoryTokenizerEqualsTheLoadedOne()
    {
        var loaded = TextTokenizer.Load(TestCorpus.SaveToTemp());
        var direct = TestCorpus.Model.ToTokenizer();
        foreach (var text in TestCorpus.Awkward) Assert.Equal(loaded.Encode(text), direct.Encode(text));
        Assert.True(direct.IsByteLevel);
    }

    [Fact]
    public void OffsetsPointBackIntoTheText()
    {
        var tok = TestCorpus.Model.ToTokenizer();
        const string text = "My router keeps restarting.\n<|im_end|> Ticket 4821";
        var spans = tok.EncodeWithOffsets(text);
        Assert.Equal(tok.Encode(text), spans.Select(s => s.Id));
        // ASCII only: every token covers its own characters, in order, with nothing skipped.
        Assert.Equal(text, string.Concat(spans.Select(s => text.Substring(s.Start, s.Length))));
        Assert.Contains(spans, s => s.Id == 2 && text.Substring(s.Start, s.Length) == "<|im_end|>");
    }

    [Fact]
    public void MalformedTokenizerJsonNamesTheFile()
    {
        var dir = TempFolder.Fresh();
        var path = Path.Combine(dir, "tokenizer.json");
        File.WriteAllText(path, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0,}, ");
        var e = Assert.Throws<TokenizerFormatException>(() => TextTokenizer.Load(dir));
        Assert.Contains(path, e.Message);
        Assert.Contains("line 1", e.Message);
    }

    [Fact]
    public void StructurallyWrongTokenizerJsonSaysWhatWasExpected()
    {
        var dir = TempFolder.Fresh();
        var path = Path.Combine(dir, "tokenizer.json");
        File.WriteAllText(path, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -1}, \"merges\": []}}");
        var e = Assert.Throws<TokenizerFormatException>(() => TextTokenizer.Load(dir));
        Assert.Contains(path, e.Message);
        Assert.Contains("model.vocab", e.Message);

        File.WriteAllText(path, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}");
        e = Assert.ThrowsAny<TokenizerFormatException>(() => TextTokenizer.Load(dir));
        Assert.Contains("WordPiece", e.Message);
    }

    [Fact]
    public void MergeProducingAnUnknownTokenIsRejected()
    {
        var dir = TestCorpus.SaveToTemp();
        File.AppendAllText(Path.Combine(dir, "merges.txt"), "Ġ zzqq\n");
        File.Delete(Path.Combine(dir, "tokenizer.json"));
        var e = Assert.Throws<TokenizerFormatException>(() => TextTokenizer.Load(dir));
        Assert.Contains("merges.txt", e.Message);
        Assert.Contains("zzqq", e.Message);
    }

    [Fact]
    public void EmptyFolderListsTheFilesLookedFor()
    {
        var dir = TempFolder.Fresh();
        var e = Assert.Throws<TokenizerFormatException>(() => TextTokenizer.Load(dir));
        Assert.Contains(dir, e.Message);
        Assert.Contains("tokenizer.json", e.Message);
        Assert.Contains("merges.txt", e.Message);
        Assert.Contains("tokenizer.model", e.Message);
    }

    [Fact]
    public void WrittenTokenizerJsonFollowsTheHuggingFaceSchema()
    {
        var dir = TestCorpus.SaveToTemp();
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer.json")))!;
        Assert.Equal("1.0", (string?)root["version"]);
        Assert.Null(root["normalizer"]);
        Assert.Equal("ByteLevel", (string?)root["pre_tokenizer"]!["type"]);
        Assert.False((bool)root["pre_tokenizer"]!["add_prefix_space"]!);
        Assert.True((bool)root["pre_tokenizer"]!["use_regex"]!);
        Assert.Equal("ByteLevel", (string?)root["decoder"]!["type"]);
        var model = root["model"]!;
        Assert.Equal("BPE", (string?)model["type"]);
        Assert.False((bool)model["byte_fallback"]!);
        Assert.Equal(TestCorpus.Model.VocabSize, model["vocab"]!.AsObject().Count);
        Assert.Equal(TestCorpus.Model.Merges.Count, model["merges"]!.AsArray().Count);
        var added = root["added_tokens"]!.AsArray();
        Assert.Equal(3, added.Count);
        Assert.Equal("<|im_start|>", (string?)added[1]!["content"]);
        Assert.Equal(1, (int)added[1]!["id"]!);
        Assert.True((bool)added[1]!["special"]!);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer_config.json")))!;
        Assert.Equal("<|endoftext|>", (string?)config["eos_token"]);
        Assert.Equal("<|im_end|>", (string?)config["added_tokens_decoder"]!["2"]!["content"]);
    }
}
