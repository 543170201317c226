using System.Text.Json.Nodes;
using FineTune.Kit.Tests.Text.Oracle;
using FineTune.Kit.Text;

namespace FineTune.Kit.Tests.Text;

/// <summary>
/// The kit's tokenizer.json loading against npm @huggingface/tokenizers 0.2.0. The fixtures are the shared test
/// vocabulary written as tokenizer.json files of each shape real models ship: GPT-2 style ByteLevel, Llama-3 style
/// (Split with its regex inside a Sequence with ByteLevel(use_regex=false), TemplateProcessing adding BOS) and Qwen
/// style (NFC normalizer, Split with single digits, merges as pairs, a non-special added token).
/// </summary>
public class TokenizerConformanceTests
{
    private const string Llama3Regex =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string QwenRegex =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private static readonly string[] Own =
    [
        "Hello world", "  leading and trailing  ", "tabs\tand\nnew\r\nlines\n\n\n", "a    b     c",
        "I'M sure we'LL see, it's THEY'RE and don't", "digits 1 12 123 1234 12345678 3.14159 -42",
        "naïve café — résumé; Ünïcödé ß", "emoji 😀👍🏽 family 👨‍👩‍👧 flag 🇳🇱", "中文字符和日本語のテキスト、한국어",
        "<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n", "code: if (x == 1) { return y[0]; } // done",
        "<|endoftext|><|endoftext|>text<|endoftext|>", "call <tool>now</tool> please", "", " ", "\n",
    ];

    private static readonly string[] Tricky = [.. Own.Concat(TestCorpus.Awkward).Distinct()];

    private static (string Dir, JsonObject Json) Variant(string shape)
    {
        var dir = TestCorpus.SaveToTemp(new TokenizerConfig { BosToken = "<|endoftext|>", EosToken = "<|im_end|>" });
        var path = Path.Combine(dir, "tokenizer.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        JsonObject ByteLevel(bool useRegex) => new()
        {
            ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = useRegex,
        };
        JsonObject Split(string regex) => new()
        {
            ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = regex }, ["behavior"] = "Isolated", ["invert"] = false,
        };
        switch (shape)
        {
            case "gpt2":
                json["pre_tokenizer"] = ByteLevel(true);
                break;
            case "llama3":
                json["model"]!["ignore_merges"] = true;
                json["pre_tokenizer"] = new JsonObject { ["type"] = "Sequence", ["pretokenizers"] = new JsonArray(Split(Llama3Regex), ByteLevel(false)) };
                json["post_processor"] = new JsonObject
                {
                    ["type"] = "TemplateProcessing",
                    ["single"] = new JsonArray(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<|endoftext|>", ["type_id"] = 0 } },
                                               new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
                    ["pair"] = new JsonArray(new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } },
                                             new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "B", ["type_id"] = 1 } }),
                    ["special_tokens"] = new JsonObject
                    {
                        ["<|endoftext|>"] = new JsonObject { ["id"] = "<|endoftext|>", ["ids"] = new JsonArray(0), ["tokens"] = new JsonArray("<|endoftext|>") },
                    },
                };
                break;
            case "qwen":
                json["normalizer"] = new JsonObject { ["type"] = "NFC" };
                json["pre_tokenizer"] = new JsonObject { ["type"] = "Sequence", ["pretokenizers"] = new JsonArray(Split(QwenRegex), ByteLevel(false)) };
                var model = json["model"]!.AsObject();
                var pairs = new JsonArray(model["merges"]!.AsArray().Select(m =>
                {
                    var s = m!.GetValue<string>();
                    var space = s.IndexOf(' ', 1);
                    return (JsonNode)new JsonArray(s[..space], s[(space + 1)..]);
                }).ToArray());
                model["merges"] = pairs;
                var nextId = model["vocab"]!.AsObject().Select(kv => kv.Value!.GetValue<int>()).Max() + 1;
                foreach (var (content, special) in new[] { ("<tool>", false), ("</tool>", false) })
                    json["added_tokens"]!.AsArray().Add(new JsonObject
                    {
                        ["id"] = nextId++, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                        ["normalized"] = false, ["special"] = special,
                    });
                break;
        }
        json["decoder"] = ByteLevel(true);
        File.WriteAllText(path, json.ToJsonString());
        return (dir, json);
    }

    [NodeOracleFact]
    public void IdsTokensAndDecodingMatchTheJavaScriptReference()
    {
        var shapes = new[] { "gpt2", "llama3", "qwen" };
        var variants = shapes.Select(Variant).ToList();
        var input = new JsonArray();
        foreach (var (dir, json) in variants)
        foreach (var addSpecial in new[] { false, true })
        {
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer_config.json")));
            input.Add(new JsonObject
            {
                ["tokenizer"] = json.DeepClone(), ["config"] = config, ["addSpecialTokens"] = addSpecial,
                ["texts"] = new JsonArray(Tricky.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
            });
        }
        var expected = NodeOracle.Run("tokenize.mjs", input).AsArray();

        var failures = new List<string>();
        var c = 0;
        for (var v = 0; v < variants.Count; v++)
        {
            var tok = TextTokenizer.Load(variants[v].Dir);
            foreach (var addSpecial in new[] { false, true })
            {
                var results = expected[c++]!.AsArray();
                for (var i = 0; i < Tricky.Length; i++)
                {
                    var label = $"{shapes[v]} add_special_tokens={addSpecial} {Json(Tricky[i])}";
                    var r = results[i]!.AsObject();
                    if (r["error"] is { } err) { failures.Add($"{label}: reference failed: {err}"); continue; }
                    var theirIds = r["ids"]!.AsArray().Select(n => n!.GetValue<int>()).ToList();
                    var theirTokens = r["tokens"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
                    var ids = tok.Encode(Tricky[i], addSpecial).ToList();
                    var tokens = ids.Select(id => tok.IdToToken(id)).ToList();
                    if (!ids.SequenceEqual(theirIds))
                        failures.Add($"{label}:\n  reference {string.Join(" ", theirTokens.Zip(theirIds, (t, id) => $"{Json(t)}:{id}"))}\n  kit       {string.Join(" ", tokens.Zip(ids, (t, id) => $"{Json(t)}:{id}"))}");
                    else if (!tokens.SequenceEqual(theirTokens))
                        failures.Add($"{label}: same ids, different token strings");
                    var decoded = tok.Decode(ids);
                    if (decoded != r["decoded"]!.GetValue<string>())
                        failures.Add($"{label}: decodes to {Json(decoded)}, reference to {Json(r["decoded"]!.GetValue<string>())}");
                    var expectedText = shapes[v] == "qwen" ? Tricky[i].Normalize(System.Text.NormalizationForm.FormC) : Tricky[i];
                    if (!addSpecial && decoded != expectedText) failures.Add($"{label}: does not decode back to the text: {Json(decoded)}");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static string Json(string? s) => System.Text.Json.JsonSerializer.Serialize(s);
}

/// <summary>tokenizer.json components the kit does not implement are refused by name, not approximated.</summary>
public class UnsupportedTokenizerComponentTests
{
    private static string Mutated(Action<JsonObject> change)
    {
        var dir = TestCorpus.SaveToTemp();
        var path = Path.Combine(dir, "tokenizer.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        change(json);
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    [Theory]
    [InlineData("""{"model": {"byte_fallback": true}}""", "byte_fallback")]
    [InlineData("""{"model": {"dropout": 0.1}}""", "dropout")]
    [InlineData("""{"pre_tokenizer": {"type": "Digits", "individual_digits": true}}""", "'Digits'")]
    [InlineData("""{"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "Removed", "invert": false}, {"type": "ByteLevel", "use_regex": false}]}}""", "behavior 'Removed'")]
    [InlineData("""{"pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "Isolated", "invert": false}}""", "Split without")]
    [InlineData("""{"decoder": {"type": "Sequence", "decoders": [{"type": "ByteLevel"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}}""", "decoder 'Strip'")]
    [InlineData("""{"post_processor": {"type": "RobertaProcessing"}}""", "'RobertaProcessing'")]
    [InlineData("""{"post_processor": {"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}]}}""", "TemplateProcessing single")]
    public void RefusedByName(string patch, string named)
    {
        var path = Mutated(json =>
        {
            foreach (var (key, value) in JsonNode.Parse(patch)!.AsObject())
                if (key == "model")
                    foreach (var (k, v) in value!.AsObject()) json["model"]![k] = v?.DeepClone();
                else json[key] = value?.DeepClone();
        });
        var e = Assert.ThrowsAny<TokenizerFormatException>(() => TextTokenizer.FromTokenizerJson(path));
        Assert.Contains(named, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void IgnoreMergesIsRefusedOnlyWhereItWouldChangeTokens()
    {
        var fine = Mutated(json => json["model"]!["ignore_merges"] = true);
        Assert.NotNull(TextTokenizer.FromTokenizerJson(fine)); // a trained vocabulary merges to each of its entries
        var path = Mutated(json =>
        {
            json["model"]!["ignore_merges"] = true;
            var vocab = json["model"]!["vocab"]!.AsObject();
            vocab["zq"] = vocab.Select(kv => kv.Value!.GetValue<int>()).Max() + 10; // no merge builds it
        });
        var e = Assert.ThrowsAny<TokenizerFormatException>(() => TextTokenizer.FromTokenizerJson(path));
        Assert.Contains("ignore_merges = true changes how 'zq' tokenizes", e.Message);
    }

    [Fact]
    public void AddedTokenStripFlagsAreRefusedByName()
    {
        var path = Mutated(json => json["added_tokens"]![1]!["rstrip"] = true);
        var e = Assert.ThrowsAny<TokenizerFormatException>(() => TextTokenizer.FromTokenizerJson(path));
        Assert.Contains("added_tokens[1] ('<|im_start|>') has rstrip = true", e.Message);
    }
}
