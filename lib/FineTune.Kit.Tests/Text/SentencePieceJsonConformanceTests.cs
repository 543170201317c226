using System.Text.Json.Nodes;
using FineTune.Kit.Tests.Text.Oracle;
using FineTune.Kit.Text;

namespace FineTune.Kit.Tests.Text;

/// <summary>
/// SentencePiece-style tokenizer.json files (Metaspace, Replace/Prepend normalizers, BPE with byte fallback, added tokens
/// with strip flags, ByteFallback/Fuse/Strip/Metaspace decoders) against npm @huggingface/tokenizers 0.2.0: same ids and
/// token strings on a corpus of awkward strings, with and without BOS, and the same decoded text.
/// </summary>
public class SentencePieceJsonConformanceTests
{
    private static readonly string[] Own =
    [
        "Hello world", "hello", "  leading and trailing  ", "a    b     c", " x", "x ", "   ", "tabs\tand\nnew\r\nlines\n\n\n",
        "digits 1 12 123 1234 12345678 3.14159 -42", "naïve café — résumé; Ünïcödé ß", "emoji 😀👍🏽 family 👨‍👩‍👧 flag 🇳🇱",
        "中文字符和日本語のテキスト、한국어", "The parcel arrived late yesterday. Ticket 4821.\n",
        "<s>hello</s>", "<s> hello </s> ", " <s>x", "text<s>", "<unk> is a token too", "</s></s>x",
        "<|user|>\nhi there <|end|>\n<|assistant|>  yes, fine<|end|>", "a <|placeholder|> b", "a   <|both|>   b", "<|both|>",
        "x<|user|>y", "<|end|> <|end|>", "<start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n", "[multi word] and [multi  word] x[multi word]y",
        "<bos>text<eos>", "<pad><pad>",
    ];

    private static readonly string[] Tricky = [.. Own.Concat(TestCorpus.Awkward).Distinct()];

    [NodeOracleFact]
    public void IdsTokensAndDecodingMatchTheJavaScriptReference()
    {
        var variants = SentencePieceJsonFixtures.Shapes.Select(s => SentencePieceJsonFixtures.Write(s)).ToList();
        var input = new JsonArray();
        foreach (var (_, json, config) in variants)
            foreach (var addSpecial in new[] { false, true })
                input.Add(new JsonObject
                {
                    ["tokenizer"] = json.DeepClone(), ["config"] = config.DeepClone(), ["addSpecialTokens"] = addSpecial,
                    ["texts"] = new JsonArray(Tricky.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
                });
        var expected = NodeOracle.Run("tokenize.mjs", input).AsArray();

        var failures = new List<string>();
        var compared = 0;
        var c = 0;
        for (var v = 0; v < variants.Count; v++)
        {
            var shape = SentencePieceJsonFixtures.Shapes[v];
            var tok = TextTokenizer.Load(variants[v].Dir);
            foreach (var addSpecial in new[] { false, true })
            {
                var results = expected[c++]!.AsArray();
                for (var i = 0; i < Tricky.Length; i++)
                {
                    var label = $"{shape} add_special_tokens={addSpecial} {Json(Tricky[i])}";
                    var r = results[i]!.AsObject();
                    if (r["error"] is { } err) { failures.Add($"{label}: reference failed: {err}"); continue; }
                    var theirIds = r["ids"]!.AsArray().Select(n => n!.GetValue<int>()).ToList();
                    var theirTokens = r["tokens"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
                    var ids = tok.Encode(Tricky[i], addSpecial).ToList();
                    var tokens = ids.Select(id => tok.IdToToken(id)).ToList();
                    compared++;
                    if (!ids.SequenceEqual(theirIds))
                        failures.Add($"{label}:\n  reference {string.Join(" ", theirTokens.Zip(theirIds, (t, id) => $"{Json(t)}:{id}"))}\n  kit       {string.Join(" ", tokens.Zip(ids, (t, id) => $"{Json(t)}:{id}"))}");
                    else if (!tokens.Select((t, k) => t == theirTokens[k] || NormalizedFormOf(t) == theirTokens[k]).All(same => same))
                        failures.Add($"{label}: same ids, different token strings");
                    var decoded = tok.Decode(ids);
                    if (decoded != r["decoded"]!.GetValue<string>())
                        failures.Add($"{label}: decodes to {Json(decoded)}, reference to {Json(r["decoded"]!.GetValue<string>())}");
                    // Where the format is lossless (no Metaspace decoder eating a first-token space, no added token), the text comes back.
                    if (!addSpecial && shape is "llama2" or "gemma" && !Tricky[i].Contains('<') && !Tricky[i].Contains('[') && decoded != Tricky[i])
                        failures.Add($"{label}: does not decode back to the text: {Json(decoded)}");
                }
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {compared} differ:\n" + string.Join("\n", failures));
        // The corpus exercises what the fixtures are for: byte fallback and the added tokens.
        var llama = TextTokenizer.Load(variants[0].Dir);
        Assert.Contains(llama.TokenToId("<0x0A>")!.Value, llama.Encode("a\nb"));
        Assert.Contains(llama.TokenToId("<0xF0>")!.Value, llama.Encode("😀"));
    }

    // An added token matched in normalized text is reported by its normalized form ("[multi▁word]"); the kit's
    // IdToToken gives its content, as the reference's id_to_token does.
    private static string? NormalizedFormOf(string? token) => token?.Replace(" ", SentencePieceJsonFixtures.Space, StringComparison.Ordinal);

    private static string Json(string? s) => System.Text.Json.JsonSerializer.Serialize(s);
}
