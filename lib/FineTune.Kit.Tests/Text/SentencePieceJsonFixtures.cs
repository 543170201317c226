using System.Text;
using System.Text.Json.Nodes;
using FineTune.Kit.Text;

namespace FineTune.Kit.Tests.Text;

/// <summary>
/// Hand-made tokenizer.json files of the shapes converted SentencePiece models ship (Llama 2 / TinyLlama legacy, Mistral
/// with Metaspace, Gemma, Phi-3 with strip flags). The vocabulary is the shared test model's byte-level BPE turned into
/// a character-level one: tokens that are whole UTF-8 text are kept with spaces written "▁", the 256 &lt;0xNN&gt; byte
/// tokens are added, and tokens holding control characters are left out, so newlines, tabs, accents outside the
/// corpus, CJK and emoji all go through byte fallback.
/// </summary>
internal static class SentencePieceJsonFixtures
{
    public const string Space = "▁";

    /// <summary>The shapes, each a tokenizer.json and a tokenizer_config.json.</summary>
    public static readonly string[] Shapes = ["llama2", "mistral", "metaspace-always", "metaspace-never", "gemma", "phi3"];

    /// <summary>A folder holding the shape's tokenizer.json and tokenizer_config.json.</summary>
    public static (string Dir, JsonObject Json, JsonObject Config) Write(string shape, bool multiSpaceTokens = true)
    {
        var json = Build(shape, multiSpaceTokens);
        var config = Config(shape);
        var dir = TempFolder.Fresh();
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), config.ToJsonString());
        return (dir, json, config);
    }

    public static JsonObject Build(string shape, bool multiSpaceTokens = true)
    {
        var gemma = shape == "gemma";
        // Metaspace decoders differ between implementations on a first token holding several "▁"; those shapes leave them out.
        var metaspace = shape.StartsWith("mistral", StringComparison.Ordinal) || shape.StartsWith("metaspace", StringComparison.Ordinal);
        var specials = gemma ? new[] { "<pad>", "<eos>", "<bos>", "<unk>" } : ["<unk>", "<s>", "</s>"];
        var (vocab, merges) = Vocabulary(specials, multiSpaceTokens && !metaspace);
        var bos = gemma ? "<bos>" : "<s>";
        var added = new JsonArray();
        void Add(string content, bool special, bool lstrip = false, bool rstrip = false, bool? normalized = null, bool singleWord = false)
        {
            // Tokens beyond the specials live in added_tokens only, as in real files, with ids after the vocabulary.
            var id = vocab.TryGetValue(content, out var known) ? known : vocab.Count + added.Count - specials.Length;
            added.Add(new JsonObject
            {
                ["id"] = id, ["content"] = content, ["single_word"] = singleWord, ["lstrip"] = lstrip, ["rstrip"] = rstrip,
                ["normalized"] = normalized ?? !special, ["special"] = special,
            });
        }
        foreach (var s in specials) Add(s, special: true, normalized: false);
        if (gemma)
        {
            Add("<start_of_turn>", special: true, normalized: false);
            Add("<end_of_turn>", special: true, normalized: false);
            Add("[multi word]", special: false, normalized: true); // found in the normalized text as "[multi▁word]"
        }
        if (shape == "phi3")
        {
            Add("<|user|>", special: true, rstrip: true, normalized: false);
            Add("<|assistant|>", special: true, rstrip: true, normalized: false);
            Add("<|end|>", special: true, rstrip: true, normalized: false);
            Add("<|placeholder|>", special: false, lstrip: true, normalized: false);
            Add("<|both|>", special: true, lstrip: true, rstrip: true, normalized: false);
        }

        var model = new JsonObject
        {
            ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = gemma ? "<unk>" : "<unk>", ["continuing_subword_prefix"] = null,
            ["end_of_word_suffix"] = null, ["fuse_unk"] = !gemma, ["byte_fallback"] = true, ["ignore_merges"] = false,
            ["vocab"] = new JsonObject(vocab.OrderBy(kv => kv.Value).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["merges"] = new JsonArray(merges.Select(m => (JsonNode)(gemma ? new JsonArray(m.Left, m.Right) : JsonValue.Create(m.Left + " " + m.Right)!)).ToArray()),
        };
        JsonObject Replace(string from, string to) => new() { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = from }, ["content"] = to };
        JsonObject Metaspace(string scheme, bool split) => new() { ["type"] = "Metaspace", ["replacement"] = Space, ["prepend_scheme"] = scheme, ["split"] = split };
        JsonObject Seq(string key, params JsonNode[] steps) => new() { ["type"] = "Sequence", [key] = new JsonArray(steps) };
        JsonObject ByteFallback() => new() { ["type"] = "ByteFallback" };
        JsonObject Fuse() => new() { ["type"] = "Fuse" };
        var legacyDecoder = Seq("decoders", Replace(Space, " "), ByteFallback(), Fuse(), new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 });
        var template = new JsonObject
        {
            ["type"] = "TemplateProcessing",
            ["single"] = new JsonArray(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = bos, ["type_id"] = 0 } },
                                       new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
            ["pair"] = new JsonArray(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = bos, ["type_id"] = 0 } },
                                     new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } },
                                     new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "B", ["type_id"] = 1 } }),
            ["special_tokens"] = new JsonObject
            {
                [bos] = new JsonObject { ["id"] = bos, ["ids"] = new JsonArray(vocab[bos]), ["tokens"] = new JsonArray(bos) },
            },
        };
        var root = new JsonObject
        {
            ["version"] = "1.0", ["truncation"] = null, ["padding"] = null, ["added_tokens"] = added,
            ["normalizer"] = null, ["pre_tokenizer"] = null, ["post_processor"] = template, ["decoder"] = null, ["model"] = model,
        };
        switch (shape)
        {
            case "llama2" or "phi3":
                root["normalizer"] = Seq("normalizers", new JsonObject { ["type"] = "Prepend", ["prepend"] = Space }, Replace(" ", Space));
                root["decoder"] = legacyDecoder;
                break;
            case "mistral":
                root["pre_tokenizer"] = Metaspace("first", false);
                root["decoder"] = Seq("decoders", ByteFallback(), Metaspace("first", false), Fuse());
                break;
            case "metaspace-always":
                root["pre_tokenizer"] = Metaspace("always", true);
                root["decoder"] = Seq("decoders", ByteFallback(), Metaspace("always", true), Fuse());
                break;
            case "metaspace-never":
                root["pre_tokenizer"] = Metaspace("never", false);
                root["decoder"] = Seq("decoders", Replace(Space, " "), ByteFallback(), Fuse());
                break;
            case "gemma":
                root["normalizer"] = Replace(" ", Space);
                // Gemma 3 also splits on " ", which the normalizer has already turned into "▁": it changes nothing.
                root["pre_tokenizer"] = new JsonObject
                {
                    ["type"] = "Split", ["pattern"] = new JsonObject { ["String"] = " " }, ["behavior"] = "MergedWithPrevious", ["invert"] = false,
                };
                root["decoder"] = Seq("decoders", Replace(Space, " "), ByteFallback(), Fuse());
                break;
            default: throw new ArgumentException($"unknown shape {shape}");
        }
        return root;
    }

    private static JsonObject Config(string shape) => shape == "gemma"
        ? new JsonObject
        {
            ["bos_token"] = "<bos>", ["eos_token"] = "<eos>", ["pad_token"] = "<pad>", ["unk_token"] = "<unk>", ["add_bos_token"] = true,
            ["add_eos_token"] = false, ["clean_up_tokenization_spaces"] = false,
        }
        : new JsonObject
        {
            ["bos_token"] = "<s>", ["eos_token"] = "</s>", ["unk_token"] = "<unk>", ["add_bos_token"] = true, ["add_eos_token"] = false,
            ["clean_up_tokenization_spaces"] = false, ["legacy"] = shape == "llama2",
        };

    /// <summary>Specials, then &lt;0x00&gt;..&lt;0xFF&gt;, then the shared model's tokens as text; its merges that stay whole text.</summary>
    public static (Dictionary<string, int> Vocab, List<(string Left, string Right)> Merges) Vocabulary(string[] specials, bool multiSpaceTokens)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var s in specials) vocab[s] = vocab.Count;
        for (var b = 0; b < 256; b++) vocab[$"<0x{b:X2}>"] = vocab.Count;
        var model = TestCorpus.Model;
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        string? AsText(string byteLevelToken)
        {
            if (model.SpecialTokens.Contains(byteLevelToken)) return null;
            var bytes = new List<byte>();
            if (!ByteLevel.TryAppendBytes(byteLevelToken, bytes)) return null;
            string text;
            try { text = strict.GetString(bytes.ToArray()); }
            catch (DecoderFallbackException) { return null; }
            if (text.Any(char.IsControl)) return null;
            text = text.Replace(" ", Space, StringComparison.Ordinal);
            if (!multiSpaceTokens && text.Count(c => c == Space[0]) > 1) return null;
            return text;
        }
        foreach (var token in model.Tokens)
            if (AsText(token) is { } text) vocab.TryAdd(text, vocab.Count);
        var merges = new List<(string, string)>();
        foreach (var (l, r) in model.Merges)
            if (AsText(l) is { } left && AsText(r) is { } right && vocab.ContainsKey(left) && vocab.ContainsKey(right) && vocab.ContainsKey(left + right))
                merges.Add((left, right));
        return (vocab, merges);
    }
}
