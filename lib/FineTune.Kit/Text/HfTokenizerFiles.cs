using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Io;

namespace FineTune.Kit.Text;

/// <summary>What a Hugging Face tokenizer.json says about a byte-level BPE tokenizer.</summary>
internal sealed record HfBpeSpec(
    Dictionary<string, int> Vocab,
    List<(string Left, string Right)> Merges,
    Dictionary<string, int> AddedTokens,
    HashSet<string> SpecialTokens,
    string PreTokenizerPattern,
    bool NfcNormalize,
    string? TemplateBosToken,
    bool IgnoreMerges = false);

/// <summary>A tokenizer.json that is well formed but describes something other than byte-level BPE.</summary>
internal sealed class NotByteLevelBpeException(string message) : TokenizerFormatException(message);

/// <summary>Reads and writes the Hugging Face tokenizer files (tokenizer.json, vocab.json, merges.txt, tokenizer_config.json).</summary>
internal static class HfTokenizerFiles
{
    private static readonly JsonWriterOptions Pretty = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // ---------- reading ----------

    public static JsonNode ParseJson(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllBytes(path), documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true })
                   ?? throw new TokenizerFormatException($"{path}: the file holds JSON null, expected an object");
        }
        catch (JsonException e)
        {
            throw new TokenizerFormatException(
                $"{path}: not valid JSON (line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1}): {e.Message}", e);
        }
    }

    public static HfBpeSpec ReadTokenizerJson(string path)
    {
        var root = ParseJson(path) as JsonObject ?? throw new TokenizerFormatException($"{path}: expected a JSON object at the top level");
        var model = root["model"] as JsonObject ?? throw new TokenizerFormatException($"{path}: expected a \"model\" object");
        var type = Str(model, "type", path) ?? (model["merges"] is not null ? "BPE" : null);
        if (type != "BPE")
            throw new NotByteLevelBpeException($"{path}: model type '{type ?? "(missing)"}' is not supported; only byte-level BPE tokenizer.json files are (use tokenizer.model for SentencePiece)");

        // Model switches the kit's BPE does not implement: refused by name rather than approximated.
        if (model["byte_fallback"]?.GetValueKind() is JsonValueKind.True)
            throw new NotByteLevelBpeException($"{path}: model.byte_fallback = true (SentencePiece-style <0x..> byte tokens) is not supported from tokenizer.json");
        if (model["dropout"] is JsonValue dropout && dropout.GetValueKind() == JsonValueKind.Number && dropout.GetValue<double>() != 0)
            throw new TokenizerFormatException($"{path}: model.dropout = {dropout} (BPE dropout) is not supported; set it to null for inference and fine-tuning");
        foreach (var key in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (model[key] is JsonValue affix && affix.GetValueKind() == JsonValueKind.String && affix.GetValue<string>().Length > 0)
                throw new TokenizerFormatException($"{path}: model.{key} = \"{affix.GetValue<string>()}\" is not supported");

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        if (model["vocab"] is not JsonObject vocabObj) throw new TokenizerFormatException($"{path}: expected \"model.vocab\" to be an object of token to id");
        foreach (var (token, idNode) in vocabObj)
            vocab[token] = Int(idNode, $"{path}: model.vocab[\"{token}\"]");

        var merges = new List<(string, string)>();
        if (model["merges"] is not JsonArray mergeArr) throw new TokenizerFormatException($"{path}: expected \"model.merges\" to be an array");
        for (var i = 0; i < mergeArr.Count; i++) merges.Add(ParseMerge(mergeArr[i], $"{path}: model.merges[{i}]"));

        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        var special = new HashSet<string>(StringComparer.Ordinal);
        if (root["added_tokens"] is JsonArray addedArr)
            for (var i = 0; i < addedArr.Count; i++)
            {
                var at = addedArr[i] as JsonObject ?? throw new TokenizerFormatException($"{path}: added_tokens[{i}] is not an object");
                var content = Str(at, "content", path) ?? throw new TokenizerFormatException($"{path}: added_tokens[{i}] has no \"content\"");
                added[content] = Int(at["id"], $"{path}: added_tokens[{i}].id");
                foreach (var flag in new[] { "lstrip", "rstrip", "single_word" })
                    if (at[flag]?.GetValueKind() is JsonValueKind.True)
                        throw new TokenizerFormatException($"{path}: added_tokens[{i}] ('{content}') has {flag} = true, which is not supported");
                if (at["special"]?.GetValueKind() is JsonValueKind.True) special.Add(content);
            }

        var (byteLevel, pattern) = ReadPreTokenizer(root["pre_tokenizer"], path);
        var decoderByteLevel = ContainsType(root["decoder"], "ByteLevel");
        CheckDecoder(root["decoder"], path);
        CheckPostProcessor(root["post_processor"], path);
        if (!byteLevel && !decoderByteLevel)
            throw new NotByteLevelBpeException($"{path}: the BPE model is not byte-level (no ByteLevel pre-tokenizer or decoder); only byte-level BPE is supported from tokenizer.json");
        var nfc = ReadNormalizer(root["normalizer"], path);
        return new HfBpeSpec(vocab, merges, added, special, pattern ?? ByteLevel.Gpt2Pattern, nfc, ReadTemplateBos(root["post_processor"]),
                             model["ignore_merges"]?.GetValueKind() is JsonValueKind.True);
    }

    public static Dictionary<string, int> ReadVocabJson(string path)
    {
        if (ParseJson(path) is not JsonObject obj) throw new TokenizerFormatException($"{path}: expected a JSON object of token to id");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (token, idNode) in obj) vocab[token] = Int(idNode, $"{path}: \"{token}\"");
        return vocab;
    }

    public static List<(string, string)> ReadMergesTxt(string path)
    {
        var merges = new List<(string, string)>();
        var lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (line.Length == 0 || (lineNo == 1 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            var parts = line.Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new TokenizerFormatException($"{path}: line {lineNo}: expected two tokens separated by one space, got '{line}'");
            merges.Add((parts[0], parts[1]));
        }
        return merges;
    }

    public static TokenizerConfig ReadTokenizerConfig(string path)
    {
        if (ParseJson(path) is not JsonObject obj) throw new TokenizerFormatException($"{path}: expected a JSON object");
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        if (obj["added_tokens_decoder"] is JsonObject dec)
            foreach (var (idText, node) in dec)
            {
                if (!int.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                    throw new TokenizerFormatException($"{path}: added_tokens_decoder key '{idText}' is not an integer id");
                var content = (node as JsonObject)?["content"]?.GetValue<string>()
                              ?? throw new TokenizerFormatException($"{path}: added_tokens_decoder[\"{idText}\"] has no \"content\"");
                added[content] = id;
            }
        var namedTemplates = ReadNamedChatTemplates(obj["chat_template"], path);
        return new TokenizerConfig
        {
            BosToken = TokenString(obj["bos_token"]),
            EosToken = TokenString(obj["eos_token"]),
            PadToken = TokenString(obj["pad_token"]),
            UnkToken = TokenString(obj["unk_token"]),
            AddBosToken = obj["add_bos_token"]?.GetValueKind() is JsonValueKind.True,
            AddEosToken = obj["add_eos_token"]?.GetValueKind() is JsonValueKind.True,
            CleanUpTokenizationSpaces = obj["clean_up_tokenization_spaces"]?.GetValueKind() is JsonValueKind.True,
            ChatTemplate = obj["chat_template"]?.GetValueKind() is JsonValueKind.String ? obj["chat_template"]!.GetValue<string>()
                           : namedTemplates.GetValueOrDefault("default"),
            NamedChatTemplates = namedTemplates,
            ModelMaxLength = obj["model_max_length"] is JsonValue v && v.TryGetValue<long>(out var n) && n is > 0 and < int.MaxValue ? (int)n : null,
            AddedTokens = added,
        };
    }

    /// <summary>
    /// The content and id of every entry of a tokenizer.json's "added_tokens", whatever the rest of the file holds
    /// (for a tokenizer.model used in its place); an entry without content or id is an error naming it.
    /// </summary>
    public static Dictionary<string, int> ReadAddedTokenIds(string path)
    {
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        if (ParseJson(path) is JsonObject root && root["added_tokens"] is JsonArray entries)
            for (var i = 0; i < entries.Count; i++)
            {
                var entry = entries[i] as JsonObject ?? throw new TokenizerFormatException($"{path}: added_tokens[{i}] is not an object");
                var content = Str(entry, "content", path) ?? throw new TokenizerFormatException($"{path}: added_tokens[{i}] has no \"content\"");
                added[content] = Int(entry["id"], $"{path}: added_tokens[{i}].id");
            }
        return added;
    }

    // chat_template may be a list of {"name": ..., "template": ...} (a default one plus e.g. "tool_use", "rag").
    private static Dictionary<string, string> ReadNamedChatTemplates(JsonNode? node, string path)
    {
        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is null || node.GetValueKind() is JsonValueKind.String or JsonValueKind.Null) return named;
        if (node is not JsonArray list)
            throw new TokenizerFormatException($"{path}: chat_template must be a string or a list of {{\"name\", \"template\"}} objects, found {node.GetValueKind()}");
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is not JsonObject o || o["name"] is not JsonValue n || n.GetValueKind() != JsonValueKind.String
                || o["template"] is not JsonValue t || t.GetValueKind() != JsonValueKind.String)
                throw new TokenizerFormatException($"{path}: chat_template[{i}] must be an object with string \"name\" and \"template\"");
            if (!named.TryAdd(n.GetValue<string>(), t.GetValue<string>()))
                throw new TokenizerFormatException($"{path}: chat_template[{i}]: the name '{n.GetValue<string>()}' appears twice");
        }
        return named;
    }

    private static string? TokenString(JsonNode? node) => node switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonObject o when o["content"] is JsonValue c && c.GetValueKind() == JsonValueKind.String => c.GetValue<string>(),
        _ => null,
    };

    internal static (string, string) ParseMerge(JsonNode? node, string where)
    {
        switch (node)
        {
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                var s = v.GetValue<string>();
                var space = s.IndexOf(' ', 1);
                if (space <= 0 || space == s.Length - 1 || s.IndexOf(' ', space + 1) >= 0)
                    throw new TokenizerFormatException($"{where}: expected \"left right\", got \"{s}\"");
                return (s[..space], s[(space + 1)..]);
            case JsonArray a when a.Count == 2 && a[0]?.GetValueKind() == JsonValueKind.String && a[1]?.GetValueKind() == JsonValueKind.String:
                return (a[0]!.GetValue<string>(), a[1]!.GetValue<string>());
            default:
                throw new TokenizerFormatException($"{where}: expected a merge as \"left right\" or [\"left\", \"right\"]");
        }
    }

    private static (bool ByteLevel, string? Pattern) ReadPreTokenizer(JsonNode? node, string path)
    {
        if (node is not JsonObject obj) return (false, null);
        switch (Str(obj, "type", path))
        {
            case "ByteLevel":
                var useRegex = obj["use_regex"]?.GetValueKind() is not JsonValueKind.False;
                if (obj["add_prefix_space"]?.GetValueKind() is JsonValueKind.True)
                    throw new NotByteLevelBpeException($"{path}: pre_tokenizer.add_prefix_space = true is not supported");
                return (true, useRegex ? ByteLevel.Gpt2Pattern : null);
            case "Split":
                var pattern = (obj["pattern"] as JsonObject)?["Regex"] is JsonValue rx && rx.GetValueKind() == JsonValueKind.String ? rx.GetValue<string>()
                    : throw new NotByteLevelBpeException($"{path}: pre_tokenizer Split without a \"pattern\": {{\"Regex\": ...}} is not supported");
                if (obj["behavior"] is JsonValue behavior && behavior.GetValue<string>() != "Isolated")
                    throw new NotByteLevelBpeException($"{path}: pre_tokenizer Split behavior '{behavior.GetValue<string>()}' is not supported (only Isolated)");
                if (obj["invert"]?.GetValueKind() is JsonValueKind.True)
                    throw new NotByteLevelBpeException($"{path}: pre_tokenizer Split with invert = true is not supported");
                return (false, pattern);
            case "Sequence":
                var byteLevel = false;
                string? found = null;
                foreach (var child in obj["pretokenizers"] as JsonArray ?? [])
                {
                    var (b, p) = ReadPreTokenizer(child, path);
                    if (p is not null && found is not null)
                        throw new NotByteLevelBpeException($"{path}: a pre_tokenizer Sequence that splits twice (two regexes) is not supported");
                    byteLevel |= b;
                    found ??= p;
                }
                return (byteLevel, found);
            case var other:
                throw new NotByteLevelBpeException($"{path}: pre_tokenizer '{other ?? "(no type)"}' is not supported; only byte-level BPE is (pre-tokenizers ByteLevel, Split with a regex, Sequence of them)");
        }
    }

    private static bool ReadNormalizer(JsonNode? node, string path)
    {
        if (node is null) return false;
        var type = node is JsonObject o ? Str(o, "type", path) : null;
        return type switch
        {
            "NFC" => true,
            "Sequence" when (node["normalizers"] as JsonArray)?.Count == 0 => false,
            _ => throw new NotByteLevelBpeException($"{path}: normalizer '{type}' is not supported (only none or NFC)"),
        };
    }

    private static void CheckDecoder(JsonNode? node, string path)
    {
        if (node is not JsonObject obj) return;
        switch (Str(obj, "type", path))
        {
            case "ByteLevel": return;
            case "Sequence":
                foreach (var d in obj["decoders"] as JsonArray ?? []) CheckDecoder(d, path);
                return;
            case var other:
                throw new NotByteLevelBpeException($"{path}: decoder '{other}' is not supported with byte-level BPE (only ByteLevel)");
        }
    }

    // Post-processors the kit applies: ByteLevel (offsets only), and TemplateProcessing that puts at most one special
    // token before the text (BOS). Anything else would add tokens the kit does not.
    internal static void CheckPostProcessor(JsonNode? node, string path)
    {
        if (node is not JsonObject obj) return;
        switch (Str(obj, "type", path))
        {
            case "ByteLevel": return;
            case "Sequence":
                foreach (var p in obj["processors"] as JsonArray ?? []) CheckPostProcessor(p, path);
                return;
            case "TemplateProcessing":
                var single = obj["single"] as JsonArray ?? throw new TokenizerFormatException($"{path}: post_processor TemplateProcessing has no \"single\" list");
                var shape = string.Join(" ", single.Select(p => p is JsonObject o && o.ContainsKey("SpecialToken") ? "special" : "text"));
                if (shape is not ("text" or "special text"))
                    throw new TokenizerFormatException(
                        $"{path}: post_processor TemplateProcessing single = [{string.Join(", ", single.Select(p => p?.ToJsonString()))}] is not supported (only an optional BOS before the text)");
                return;
            case var other:
                throw new TokenizerFormatException($"{path}: post_processor '{other}' is not supported (supported: ByteLevel, TemplateProcessing with a BOS)");
        }
    }

    internal static string? ReadTemplateBos(JsonNode? node)
    {
        if (node is not JsonObject obj) return null;
        if (obj["type"]?.GetValue<string>() == "Sequence")
            return (obj["processors"] as JsonArray ?? []).Select(ReadTemplateBos).FirstOrDefault(t => t is not null);
        if (obj["type"]?.GetValue<string>() != "TemplateProcessing") return null;
        var first = (obj["single"] as JsonArray)?.FirstOrDefault() as JsonObject;
        return (first?["SpecialToken"] as JsonObject)?["id"]?.GetValue<string>();
    }

    internal static bool ContainsType(JsonNode? node, string type) => node switch
    {
        JsonObject o => o["type"] is JsonValue t && t.GetValueKind() == JsonValueKind.String && t.GetValue<string>() == type
                        || o.Any(kv => ContainsType(kv.Value, type)),
        JsonArray a => a.Any(n => ContainsType(n, type)),
        _ => false,
    };

    internal static string? Str(JsonObject obj, string key, string path)
    {
        var node = obj[key];
        if (node is null || node.GetValueKind() == JsonValueKind.Null) return null;
        if (node.GetValueKind() != JsonValueKind.String) throw new TokenizerFormatException($"{path}: \"{key}\" should be a string");
        return node.GetValue<string>();
    }

    internal static int Int(JsonNode? node, string where)
    {
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var i) && i >= 0) return i;
        throw new TokenizerFormatException($"{where}: expected a non-negative integer id");
    }

    // ---------- writing ----------

    public static void WriteTokenizerJson(string path, BpeModel model)
    {
        AtomicFile.Write(path, stream =>
        {
            using var w = new Utf8JsonWriter(stream, Pretty);
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            foreach (var s in model.SpecialTokens)
            {
                w.WriteStartObject();
                w.WriteNumber("id", model.TokenToId(s)!.Value);
                w.WriteString("content", s);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("special", true);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNull("normalizer");
            WriteByteLevelStep(w, "pre_tokenizer", trimOffsets: true);
            WriteByteLevelStep(w, "post_processor", trimOffsets: false);
            WriteByteLevelStep(w, "decoder", trimOffsets: true);
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            w.WriteNull("unk_token");
            w.WriteNull("continuing_subword_prefix");
            w.WriteNull("end_of_word_suffix");
            w.WriteBoolean("fuse_unk", false);
            w.WriteBoolean("byte_fallback", false);
            w.WriteBoolean("ignore_merges", false);
            w.WriteStartObject("vocab");
            for (var id = 0; id < model.Tokens.Count; id++) w.WriteNumber(model.Tokens[id], id);
            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach (var (l, r) in model.Merges) w.WriteStringValue(l + " " + r);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }

    private static void WriteByteLevelStep(Utf8JsonWriter w, string name, bool trimOffsets)
    {
        w.WriteStartObject(name);
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", false);
        w.WriteBoolean("trim_offsets", trimOffsets);
        w.WriteBoolean("use_regex", true);
        w.WriteEndObject();
    }

    public static void WriteVocabJson(string path, BpeModel model) =>
        AtomicFile.Write(path, stream =>
        {
            using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            w.WriteStartObject();
            for (var id = 0; id < model.Tokens.Count; id++) w.WriteNumber(model.Tokens[id], id);
            w.WriteEndObject();
        });

    public static void WriteMergesTxt(string path, BpeModel model)
    {
        var sb = new StringBuilder("#version: 0.2\n");
        foreach (var (l, r) in model.Merges) sb.Append(l).Append(' ').Append(r).Append('\n');
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    public static void WriteTokenizerConfig(string path, BpeModel model, TokenizerConfig config)
    {
        foreach (var (role, token) in new[] { ("bos", config.BosToken), ("eos", config.EosToken), ("pad", config.PadToken), ("unk", config.UnkToken) })
            if (token is not null && model.TokenToId(token) is null)
                throw new ArgumentException($"{role}_token '{token}' is not in the vocabulary; add it to the special tokens");
        AtomicFile.Write(path, stream =>
        {
            using var w = new Utf8JsonWriter(stream, Pretty);
            w.WriteStartObject();
            w.WriteBoolean("add_bos_token", config.AddBosToken);
            w.WriteBoolean("add_eos_token", config.AddEosToken);
            w.WriteStartObject("added_tokens_decoder");
            foreach (var s in model.SpecialTokens)
            {
                w.WriteStartObject(model.TokenToId(s)!.Value.ToString(CultureInfo.InvariantCulture));
                w.WriteString("content", s);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("special", true);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            WriteOptional(w, "bos_token", config.BosToken);
            WriteOptional(w, "eos_token", config.EosToken);
            WriteOptional(w, "pad_token", config.PadToken);
            WriteOptional(w, "unk_token", config.UnkToken);
            if (config.ChatTemplate is not null) w.WriteString("chat_template", config.ChatTemplate);
            w.WriteBoolean("clean_up_tokenization_spaces", false);
            w.WriteNumber("model_max_length", config.ModelMaxLength ?? 1024);
            w.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
            w.WriteEndObject();
        });
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name);
        else w.WriteString(name, value);
    }
}
