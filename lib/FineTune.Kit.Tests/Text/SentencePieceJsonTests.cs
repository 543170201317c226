using System.Text.Json.Nodes;
using FineTune.Kit.Data;
using FineTune.Kit.Tests.Cli;
using FineTune.Kit.Text;

namespace FineTune.Kit.Tests.Text;

/// <summary>
/// SentencePiece-style tokenizer.json behaviour worked out by hand from the reference (Rust) semantics, where the
/// JavaScript oracle cannot judge: it ignores Metaspace's split and added tokens' single_word, and its Metaspace decoder
/// strips only one space from the first token.
/// </summary>
public class SentencePieceJsonTests
{
    // ids: <unk> 0, <s> 1, </s> 2, then bytes 3..258, then the pieces below in order.
    private static readonly string[] Pieces = ["▁", "a", "b", "x", "▁a", "▁b", "▁▁", "ab"];
    private static readonly string[] MergeList = ["▁ a", "▁ ▁", "▁ b", "a b"];

    private static int Id(string piece) => piece switch
    {
        "<unk>" => 0, "<s>" => 1, "</s>" => 2,
        _ when piece.StartsWith("<0x", StringComparison.Ordinal) => 3 + Convert.ToInt32(piece[3..5], 16),
        _ => 259 + Array.IndexOf(Pieces, piece),
    };

    private static JsonObject Tiny(bool byteFallback = true, string? unk = "<unk>", bool fuseUnk = false)
    {
        var vocab = new JsonObject { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        for (var b = 0; b < 256; b++) vocab[$"<0x{b:X2}>"] = 3 + b;
        foreach (var p in Pieces) vocab[p] = Id(p);
        return new JsonObject
        {
            ["added_tokens"] = new JsonArray(
                new JsonObject { ["id"] = 0, ["content"] = "<unk>", ["special"] = true, ["normalized"] = false },
                new JsonObject { ["id"] = 1, ["content"] = "<s>", ["special"] = true, ["normalized"] = false },
                new JsonObject { ["id"] = 2, ["content"] = "</s>", ["special"] = true, ["normalized"] = false }),
            ["normalizer"] = null, ["pre_tokenizer"] = null, ["post_processor"] = null, ["decoder"] = null,
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = unk, ["fuse_unk"] = fuseUnk, ["byte_fallback"] = byteFallback,
                ["vocab"] = vocab, ["merges"] = new JsonArray(MergeList.Select(m => (JsonNode)JsonValue.Create(m)!).ToArray()),
            },
        };
    }

    private static TextTokenizer Load(JsonObject json, Action<JsonObject>? change = null)
    {
        change?.Invoke(json);
        var dir = TempFolder.Fresh();
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.ToJsonString());
        return TextTokenizer.Load(dir);
    }

    private static string Path1(JsonObject json)
    {
        var dir = TempFolder.Fresh();
        var path = Path.Combine(dir, "tokenizer.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    private static JsonObject Metaspace(string scheme, bool split) =>
        new() { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = scheme, ["split"] = split };

    [Fact]
    public void MetaspaceSplitCutsBeforeEveryReplacementSoMergesNeverCrossIt()
    {
        // "a  b" -> "▁a▁▁b". Split: "▁a" | "▁" | "▁b". Unsplit, merges run over the whole: ▁+a (rank 0), then ▁+▁ (rank 1)
        // leaves "▁▁" next to "b", which no merge joins.
        var split = Load(Tiny(), j => j["pre_tokenizer"] = Metaspace("always", true));
        Assert.Equal([Id("▁a"), Id("▁"), Id("▁b")], split.Encode("a  b"));
        var whole = Load(Tiny(), j => j["pre_tokenizer"] = Metaspace("always", false));
        Assert.Equal([Id("▁a"), Id("▁▁"), Id("b")], whole.Encode("a  b"));
    }

    [Theory]
    [InlineData("Isolated", "x ▁ ▁ a")]
    [InlineData("Removed", "x a")]
    [InlineData("MergedWithPrevious", "x ▁ ▁ a")]   // "x▁" | "▁" | "a": no merge makes "x▁"
    [InlineData("MergedWithNext", "x ▁ ▁a")]        // "x" | "▁" | "▁a"
    [InlineData("Contiguous", "x ▁▁ a")]            // "x" | "▁▁" | "a"
    public void SplitBehavioursCutAsTheReferenceDoes(string behavior, string expected)
    {
        // "x  a" normalizes to "x▁▁a"; the Split looks for "▁".
        var tok = Load(Tiny(), j =>
        {
            j["normalizer"] = JsonNode.Parse("""{"type": "Replace", "pattern": {"String": " "}, "content": "▁"}""");
            j["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Split", ["pattern"] = new JsonObject { ["String"] = "▁" }, ["behavior"] = behavior, ["invert"] = false,
            };
        });
        Assert.Equal(expected.Split(' ').Select(Id), tok.Encode("x  a"));
    }

    [Fact]
    public void PrependSchemeFirstOnlyPrefixesTheStartOfTheInput()
    {
        var first = Load(Tiny(), j => j["pre_tokenizer"] = Metaspace("first", false));
        Assert.Equal([Id("▁a"), 1, Id("a")], first.Encode("a<s>a"));
        var always = Load(Tiny(), j => j["pre_tokenizer"] = Metaspace("always", false));
        Assert.Equal([Id("▁a"), 1, Id("▁a")], always.Encode("a<s>a"));
        var never = Load(Tiny(), j => j["pre_tokenizer"] = Metaspace("never", false));
        Assert.Equal([Id("a"), 1, Id("a")], never.Encode("a<s>a"));
        // A text that already starts with a space is not given a second one.
        Assert.Equal([Id("▁a")], always.Encode(" a"));
    }

    [Fact]
    public void MetaspaceDecoderDropsEveryReplacementOfTheFirstTokenUnlessTheSchemeIsNever()
    {
        var first = Load(Tiny(), j => j["decoder"] = Metaspace("first", false));
        Assert.Equal(" a", first.Decode([Id("▁▁"), Id("▁a")]));
        var never = Load(Tiny(), j => j["decoder"] = Metaspace("never", false));
        Assert.Equal("   a", never.Decode([Id("▁▁"), Id("▁a")]));
    }

    [Fact]
    public void ByteFallbackEncodesMissingCharactersAsTheirUtf8Bytes()
    {
        var tok = Load(Tiny(), j => j["decoder"] = JsonNode.Parse("""{"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]}"""));
        // '中' is E4 B8 AD; 'a' and 'b' merge into "ab".
        Assert.Equal([Id("<0xE4>"), Id("<0xB8>"), Id("<0xAD>"), Id("ab")], tok.Encode("中ab"));
        Assert.Equal([Id("<0x0A>")], tok.Encode("\n"));
        Assert.Equal("中ab", tok.Decode(tok.Encode("中ab")));
        // Bytes that do not form UTF-8 decode to one U+FFFD each.
        Assert.Equal("\uFFFD\uFFFDa", tok.Decode([Id("<0xE4>"), Id("<0xB8>"), Id("a")]));
    }

    [Fact]
    public void WithNeitherByteFallbackNorUnkACharacterIsDroppedAsTheReferenceDoesButCounted()
    {
        var tok = Load(Tiny(byteFallback: false, unk: null));
        var before = UnencodableCharacters.Count;
        // with '中' gone, 'a' and 'b' are neighbours and merge, exactly what the reference gives
        Assert.Equal([Id("ab")], tok.Encode("a中b"));
        Assert.True(UnencodableCharacters.Count - before >= 1);   // other tests may drop characters at the same time
        Assert.Contains("中", UnencodableCharacters.Examples);
        Assert.Contains("dropped, as Hugging Face's tokenizers drop them; seen: ", UnencodableCharacters.Describe(before));
        Assert.Contains("'中' (U+4E2D)", UnencodableCharacters.Describe(before));
        Assert.Null(UnencodableCharacters.Describe(UnencodableCharacters.Count));
    }

    [Fact]
    public void Ftk_warns_on_standard_error_when_a_command_dropped_characters()
    {
        var json = Tiny(byteFallback: false, unk: null);
        var dir = TempFolder.Fresh();
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.ToJsonString());
        var (exit, stdout, stderr) = FineTune.Kit.Tests.Cli.CliRunner.Run("tokenizer", "encode", "--tokenizer", dir, "--text", "a中b", "--json");
        Assert.Equal(0, exit);
        Assert.StartsWith("{\"ids\": [", stdout.Replace("{\"ids\":[", "{\"ids\": ["));   // the contract line is unchanged
        Assert.Contains("ftk tokenizer encode: warning: ", stderr);
        Assert.Contains("'中' (U+4E2D)", stderr);
    }

    [Fact]
    public void WithoutByteFallbackUnknownCharactersBecomeUnkFusedWhenAsked()
    {
        Assert.Equal([0, 0, Id("a")], Load(Tiny(byteFallback: false)).Encode("中中a"));
        Assert.Equal([0, Id("a")], Load(Tiny(byteFallback: false, fuseUnk: true)).Encode("中中a"));
    }

    [Fact]
    public void AddedTokenFlagsStripWhitespaceAndSingleWordNeedsWordBoundaries()
    {
        JsonObject Added(int id, string content, bool lstrip = false, bool rstrip = false, bool singleWord = false) => new()
        {
            ["id"] = id, ["content"] = content, ["special"] = true, ["normalized"] = false, ["lstrip"] = lstrip, ["rstrip"] = rstrip, ["single_word"] = singleWord,
        };
        var tok = Load(Tiny(), j =>
        {
            var added = j["added_tokens"]!.AsArray();
            added.Add(Added(300, "<L>", lstrip: true));
            added.Add(Added(301, "<R>", rstrip: true));
            added.Add(Added(302, "<W>", singleWord: true));
        });
        // No pre-tokenizer or normalizer: spaces are plain characters (bytes here), so any left over shows as <0x20>.
        var sp = Id("<0x20>");
        Assert.Equal([Id("a"), 300, sp, Id("b")], tok.Encode("a  <L> b"));
        Assert.Equal([Id("a"), sp, 301, Id("b")], tok.Encode("a <R> \n b"));
        Assert.Equal([Id("a"), sp, 302, sp, Id("b")], tok.Encode("a <W> b"));
        Assert.Equal([302], tok.Encode("<W>"));
        // Touching a word character on either side, it is not the token but text (its characters as bytes).
        Assert.DoesNotContain(302, tok.Encode("a<W> b"));
        Assert.DoesNotContain(302, tok.Encode("a <W>b"));
    }

    [Fact]
    public void NormalizedAddedTokensMatchTheirNormalizedForm()
    {
        var tok = Load(Tiny(), j =>
        {
            j["normalizer"] = JsonNode.Parse("""{"type": "Replace", "pattern": {"String": " "}, "content": "▁"}""");
            j["added_tokens"]!.AsArray().Add(new JsonObject { ["id"] = 400, ["content"] = "a b", ["special"] = false, ["normalized"] = true });
        });
        Assert.Equal([400], tok.Encode("a b"));
        // "a▁▁b": no added token; ▁+▁ (rank 1) merges before ▁+b (rank 2) could.
        Assert.Equal([Id("a"), Id("▁▁"), Id("b")], tok.Encode("a  b"));
    }

    [Fact]
    public void OffsetsPointIntoTheOriginalTextSoChatLossMasksCoverTheReply()
    {
        var (dir, _, _) = SentencePieceJsonFixtures.Write("llama2");
        var tok = TextTokenizer.Load(dir);
        Assert.False(tok.IsByteLevel);
        const string text = "The parcel arrived 中";
        foreach (var span in tok.EncodeWithOffsets(text))
        {
            var piece = text.Substring(span.Start, span.Length);
            var token = tok.IdToToken(span.Id)!;
            if (!token.StartsWith("<0x", StringComparison.Ordinal))
                Assert.Equal(token.Replace("▁", " ").TrimStart(), piece.TrimStart());
        }
        var enc = ChatTemplate.Plain.Encode(tok, [ChatMessage.User("The parcel"), ChatMessage.Assistant("arrived late")]);
        var trained = enc.Ids.Where((_, i) => enc.LossMask[i]).ToList();
        Assert.Equal("arrived late", tok.Decode(trained).Trim());
    }

    [Fact]
    public void FtkTokenizerEncodePrintsTheIdsOfASentencePieceStyleFile()
    {
        var (dir, _, _) = SentencePieceJsonFixtures.Write("phi3");
        var tok = TextTokenizer.Load(dir);
        const string text = "<|user|>\nThe parcel 😀<|end|>";
        var (exit, output, err) = CliRunner.Run("tokenizer", "encode", "--tokenizer", dir, "--text", text, "--json", "--add-special-tokens");
        Assert.True(exit == 0, err);
        var json = JsonNode.Parse(output)!.AsObject();
        var ids = json["ids"]!.AsArray().Select(n => n!.GetValue<int>()).ToList();
        Assert.Equal(tok.Encode(text, addSpecialTokens: true), ids);
        Assert.Equal(1, ids[0]); // <s> from the TemplateProcessing post-processor
        var tokens = json["tokens"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        Assert.Contains("<0xF0>", tokens);
        Assert.DoesNotContain("<0x0A>", tokens); // rstrip on <|user|> swallowed the newline
        Assert.Equal("<|end|>", tokens[^1]);
    }

    [Theory]
    [InlineData("""{"normalizer": {"type": "Precompiled", "precompiled_charsmap": ""}}""", "normalizer 'Precompiled'")]
    [InlineData("""{"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}}""", "normalizer 'NFKC'")]
    [InlineData("""{"pre_tokenizer": {"type": "Whitespace"}}""", "pre_tokenizer 'Whitespace'")]
    [InlineData("""{"pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "Isolated", "invert": true}}""", "invert = true")]
    [InlineData("""{"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Digits"}, {"type": "Metaspace", "replacement": "▁"}]}}""", "pre_tokenizer 'Digits'")]
    [InlineData("""{"pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "add_prefix_space": false, "prepend_scheme": "always"}}""", "add_prefix_space = false")]
    [InlineData("""{"decoder": {"type": "CTC"}}""", "decoder 'CTC'")]
    [InlineData("""{"decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "WordPiece"}]}}""", "decoder 'WordPiece'")]
    [InlineData("""{"post_processor": {"type": "BertProcessing"}}""", "post_processor 'BertProcessing'")]
    [InlineData("""{"model": {"dropout": 0.1}}""", "dropout")]
    [InlineData("""{"model": {"continuing_subword_prefix": "##"}}""", "continuing_subword_prefix")]
    [InlineData("""{"model": {"unk_token": "<missing>"}}""", "unk_token '<missing>'")]
    [InlineData("""{"model": {"merges": ["a q"]}}""", "merge 0 'a q'")]
    public void UnsupportedComponentsAreRefusedByName(string patch, string named)
    {
        var json = Tiny();
        foreach (var (key, value) in JsonNode.Parse(patch)!.AsObject())
            if (key == "model") foreach (var (k, v) in value!.AsObject()) json["model"]![k] = v?.DeepClone();
            else json[key] = value?.DeepClone();
        var path = Path1(json);
        var e = Assert.ThrowsAny<TokenizerFormatException>(() => TextTokenizer.FromTokenizerJson(path));
        Assert.Contains(named, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void DropoutNullOrZeroIsAccepted()
    {
        Assert.Equal([Id("ab")], Load(Tiny(), j => j["model"]!["dropout"] = null).Encode("ab"));
        Assert.Equal([Id("ab")], Load(Tiny(), j => j["model"]!["dropout"] = 0.0).Encode("ab"));
    }
}
