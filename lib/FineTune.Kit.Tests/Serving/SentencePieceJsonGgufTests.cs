using System.Text.Json.Nodes;
using FineTune.Kit.Models;
using FineTune.Kit.Serving;
using FineTune.Kit.Tests.Models;
using FineTune.Kit.Tests.Text;

namespace FineTune.Kit.Tests.Serving;

/// <summary>
/// A SentencePiece-style tokenizer.json (no tokenizer.model beside it) exports as llama.cpp's "llama" tokenizer, and
/// llama.cpp then splits text into the same ids as the kit.
/// </summary>
public class SentencePieceJsonGgufTests
{
    private static readonly string[] Texts =
    [
        .. GgufExportTests.TrickyStrings, "The parcel arrived late yesterday. Ticket 4821.\n", "<s>hello</s> there", "x</s>", "中文 and 한국어",
    ];

    // llama.cpp merges any two adjacent tokens that make a token: the file gets every such merge, grouped by the token made.
    internal static JsonObject Exhaustive(JsonObject json)
    {
        var vocab = json["model"]!["vocab"]!.AsObject();
        var ids = vocab.ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<int>(), StringComparer.Ordinal);
        var added = json["added_tokens"]!.AsArray().Select(a => a!["content"]!.GetValue<string>()).ToHashSet();
        var pieces = ids.Where(kv => !added.Contains(kv.Key) && !kv.Key.StartsWith("<0x", StringComparison.Ordinal)).OrderBy(kv => kv.Value).Select(kv => kv.Key).ToList();
        // Characters of pieces that are not tokens themselves become tokens (llama.cpp would otherwise merge them).
        var next = Math.Max(ids.Values.Max(), json["added_tokens"]!.AsArray().Max(a => a!["id"]!.GetValue<int>())) + 1;
        foreach (var piece in pieces.ToList())
            foreach (var rune in piece.EnumerateRunes())
                if (ids.TryAdd(rune.ToString(), next)) { vocab[rune.ToString()] = next++; pieces.Add(rune.ToString()); }
        var merges = new JsonArray();
        foreach (var piece in pieces)
            for (var cut = 1; cut < piece.Length; cut++)
                if (!char.IsLowSurrogate(piece[cut]) && ids.ContainsKey(piece[..cut]) && ids.ContainsKey(piece[cut..]))
                    merges.Add(piece[..cut] + " " + piece[cut..]);
        json["model"]!["merges"] = merges;
        return json;
    }

    internal static int VocabSize(JsonObject json) =>
        Math.Max(json["model"]!["vocab"]!.AsObject().Max(kv => kv.Value!.GetValue<int>()), json["added_tokens"]!.AsArray().Max(a => a!["id"]!.GetValue<int>())) + 1;

    [Theory]
    [InlineData("llama2", true)]
    [InlineData("gemma", false)]
    public void SentencePieceStyleTokenizerJsonTokenisesAlikeInLlamaCpp(string shape, bool spacePrefix)
    {
        var json = Exhaustive(SentencePieceJsonFixtures.Build(shape));
        // llama.cpp matches added tokens in the raw text only; the Gemma fixture's normalized one is left out here.
        var plain = json["added_tokens"]!.AsArray().Where(a => a!["normalized"]!.GetValue<bool>() == false).Select(a => a!.DeepClone()).ToArray();
        json["added_tokens"] = new JsonArray(plain);
        var vocabSize = VocabSize(json);
        var dir = TempFolder.Fresh();
        using (var random = TinyModels.Random(ModelConfig.Llama(vocabSize, 64, 1, 4, 2, 96, maxPositions: 256) with { InitializerRange = 0.2 })) random.Save(dir);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.ToJsonString());
        using var model = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        var tok = model.RequireTokenizer();
        var gguf = Path.Combine(dir, "m.gguf");
        GgufExporter.Export(model, gguf, GgufFileType.F32);
        var file = GgufFile.Read(gguf);
        Assert.Equal("llama", file.Metadata["tokenizer.ggml.model"].AsString());
        var types = (int[])file.Metadata["tokenizer.ggml.token_type"].Value;
        Assert.Equal((int)GgufTokenType.Byte, types[tok.TokenToId("<0x41>")!.Value]);
        Assert.Equal((int)GgufTokenType.Control, types[tok.BosId!.Value]);
        Assert.Equal(spacePrefix, (bool)file.Metadata["tokenizer.ggml.add_space_prefix"].Value);
        using var cpp = LlamaCpp.Load(gguf);
        cpp.AssertTokenizesLike(tok, Texts);
    }

    [Fact]
    public void A_tokenizer_model_beside_the_json_does_not_replace_it_so_added_tokens_reach_the_file()
    {
        // real Phi-3 and Mistral folders ship both: only tokenizer.json holds the added chat markers
        var json = Exhaustive(SentencePieceJsonFixtures.Build("llama2"));
        int id = VocabSize(json);
        json["added_tokens"]!.AsArray().Add(new JsonObject
        {
            ["id"] = id, ["content"] = "<|user|>", ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
            ["normalized"] = false, ["special"] = true,
        });
        var dir = TempFolder.Fresh();
        using (var random = TinyModels.Random(ModelConfig.Llama(id + 1, 64, 1, 4, 2, 96, maxPositions: 256))) random.Save(dir);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.ToJsonString());
        File.WriteAllBytes(Path.Combine(dir, "tokenizer.model"), SentencePieceTests.TinyModel());
        using var model = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        var gguf = Path.Combine(dir, "m.gguf");
        GgufExporter.Export(model, gguf, GgufFileType.F32);
        var tokens = (string[])GgufFile.Read(gguf).Metadata["tokenizer.ggml.tokens"].Value;
        Assert.Equal("<|user|>", tokens[id]);
        Assert.Equal(model.RequireTokenizer().TokenToId("<|user|>"), id);
    }

    [Theory]
    [InlineData("mistral", "Metaspace pre-tokenizer")]
    [InlineData("phi3", "rstrip = true")]
    public void ShapesLlamaCppSplitsDifferentlyAreRefused(string shape, string named)
    {
        var json = Exhaustive(SentencePieceJsonFixtures.Build(shape));
        var vocabSize = VocabSize(json);
        var dir = TempFolder.Fresh();
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.ToJsonString());
        var e = Assert.Throws<GgufExportException>(() => GgufTokenizer.FromFolder(dir, vocabSize));
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public void MissingMergesThatLlamaCppWouldMakeAreRefused()
    {
        var json = SentencePieceJsonFixtures.Build("llama2"); // merges from the byte-level model, not every way to cut a token
        var dir = TempFolder.Fresh();
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.ToJsonString());
        var e = Assert.Throws<GgufExportException>(() => GgufTokenizer.FromFolder(dir, 5000));
        Assert.Contains("which llama.cpp would merge, but the merges have no", e.Message);
    }
}
