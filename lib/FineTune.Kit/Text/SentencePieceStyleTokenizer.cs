using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Tokenizers;

namespace FineTune.Kit.Text;

/// <summary>
/// A tokenizer.json whose BPE works on characters rather than bytes, as converted SentencePiece models ship (Llama 2,
/// Mistral, TinyLlama, Phi-3, Gemma): normalizers Replace/Prepend, Metaspace and Split pre-tokenizers, BPE with byte fallback,
/// added tokens with their strip flags, and the Metaspace/Replace/ByteFallback/Fuse/Strip decoders. The pipeline runs as
/// the reference implementation does: added tokens are cut out of the raw text, the rest is normalized and searched for
/// normalized added tokens, pre-tokenized, and encoded word by word. Offsets point into the original text.
/// </summary>
internal sealed class SentencePieceStyleTokenizer : Tokenizer
{
    private readonly HfNormalizer? normalizer;
    private readonly IReadOnlyList<HfPreTokenizer> preTokenizers;
    private readonly SentencePieceBpe model;
    private readonly HfDecoder? decoder;
    private readonly AddedTokenMatcher rawAdded, normalizedAdded;
    private readonly Dictionary<int, string> tokenOf;

    private SentencePieceStyleTokenizer(HfNormalizer? normalizer, IReadOnlyList<HfPreTokenizer> preTokenizers, SentencePieceBpe model, HfDecoder? decoder,
                                        IReadOnlyList<AddedTokenSpec> added, Dictionary<int, string> tokenOf)
    {
        this.normalizer = normalizer;
        this.preTokenizers = preTokenizers;
        this.model = model;
        this.decoder = decoder;
        this.tokenOf = tokenOf;
        rawAdded = new AddedTokenMatcher(added.Where(t => !t.Normalized).Select(t => (t.Content, t)));
        // A normalized added token is looked for in normalized text, in its normalized form.
        normalizedAdded = new AddedTokenMatcher(added.Where(t => t.Normalized)
            .Select(t => (normalizer?.Apply(AlignedText.Of(t.Content, 0, t.Content.Length)).Text ?? t.Content, t)));
    }

    /// <summary>The added tokens, in file order.</summary>
    public IReadOnlyList<AddedTokenSpec> AddedTokens { get; private init; } = [];

    /// <summary>Model vocabulary and added tokens, token to id.</summary>
    public IReadOnlyDictionary<string, int> Vocabulary { get; private init; } = new Dictionary<string, int>();

    /// <summary>Whether the model falls back to &lt;0xNN&gt; byte tokens for characters outside its vocabulary.</summary>
    public bool ByteFallback { get; private init; }

    /// <summary>The BPE model's own vocabulary (without added tokens).</summary>
    public IReadOnlyDictionary<string, int> ModelVocabulary { get; private init; } = new Dictionary<string, int>();

    /// <summary>The merges in rank order.</summary>
    public IReadOnlyList<(string Left, string Right)> Merges { get; private init; } = [];

    /// <summary>model.unk_token, if any.</summary>
    public string? UnkToken { get; private init; }

    /// <summary>The normalizer, if any.</summary>
    public HfNormalizer? NormalizerStep => normalizer;

    /// <summary>The pre-tokenizers, applied in order (none: the whole text is one word).</summary>
    public IReadOnlyList<HfPreTokenizer> PreTokenizers => preTokenizers;

    /// <summary>
    /// Whether a tokenizer.json has a BPE model and no ByteLevel step anywhere: a character-level (SentencePiece-style) BPE.
    /// </summary>
    public static bool Describes(JsonObject root) =>
        root["model"] is JsonObject model
        && (model["type"] is JsonValue t && t.GetValueKind() == JsonValueKind.String ? t.GetValue<string>() == "BPE" : model["merges"] is not null)
        && !HfTokenizerFiles.ContainsType(root["pre_tokenizer"], "ByteLevel")
        && !HfTokenizerFiles.ContainsType(root["decoder"], "ByteLevel")
        && !HfTokenizerFiles.ContainsType(root["normalizer"], "ByteLevel")
        && !HfTokenizerFiles.ContainsType(root["post_processor"], "ByteLevel");

    /// <summary>Reads the file; components the kit does not implement are refused by name.</summary>
    public static SentencePieceStyleTokenizer Read(JsonObject root, string path)
    {
        var model = (JsonObject)root["model"]!;
        if (model["dropout"] is JsonValue dropout && dropout.GetValueKind() == JsonValueKind.Number && dropout.GetValue<double>() != 0)
            throw new TokenizerFormatException($"{path}: model.dropout = {dropout} (BPE dropout) is not supported; set it to null for inference and fine-tuning");
        foreach (var key in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (model[key] is JsonValue affix && affix.GetValueKind() == JsonValueKind.String && affix.GetValue<string>().Length > 0)
                throw new TokenizerFormatException($"{path}: model.{key} = \"{affix.GetValue<string>()}\" is not supported");

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        if (model["vocab"] is not JsonObject vocabObj) throw new TokenizerFormatException($"{path}: expected \"model.vocab\" to be an object of token to id");
        foreach (var (token, idNode) in vocabObj) vocab[token] = HfTokenizerFiles.Int(idNode, $"{path}: model.vocab[\"{token}\"]");
        if (model["merges"] is not JsonArray mergeArr) throw new TokenizerFormatException($"{path}: expected \"model.merges\" to be an array");
        var merges = new List<(string, string)>(mergeArr.Count);
        for (var i = 0; i < mergeArr.Count; i++) merges.Add(HfTokenizerFiles.ParseMerge(mergeArr[i], $"{path}: model.merges[{i}]"));
        var unk = HfTokenizerFiles.Str(model, "unk_token", path);
        var byteFallback = model["byte_fallback"]?.GetValueKind() is JsonValueKind.True;
        var bpe = new SentencePieceBpe(vocab, merges, unk, fuseUnk: model["fuse_unk"]?.GetValueKind() is JsonValueKind.True, byteFallback,
                                       ignoreMerges: model["ignore_merges"]?.GetValueKind() is JsonValueKind.True, path);

        var added = new List<AddedTokenSpec>();
        if (root["added_tokens"] is JsonArray addedArr)
            for (var i = 0; i < addedArr.Count; i++)
            {
                var at = addedArr[i] as JsonObject ?? throw new TokenizerFormatException($"{path}: added_tokens[{i}] is not an object");
                var content = HfTokenizerFiles.Str(at, "content", path) ?? throw new TokenizerFormatException($"{path}: added_tokens[{i}] has no \"content\"");
                bool Flag(string name, bool otherwise) => at[name]?.GetValueKind() switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    null or JsonValueKind.Null => otherwise,
                    var k => throw new TokenizerFormatException($"{path}: added_tokens[{i}] ('{content}') {name} must be true or false, found {k}"),
                };
                var special = Flag("special", false);
                added.Add(new AddedTokenSpec(content, HfTokenizerFiles.Int(at["id"], $"{path}: added_tokens[{i}].id"), special,
                    Flag("single_word", false), Flag("lstrip", false), Flag("rstrip", false), Flag("normalized", !special)));
            }

        var normalizer = HfNormalizer.Read(root["normalizer"], path);
        var preTokenizers = HfPreTokenizer.Read(root["pre_tokenizer"], path);
        var decoder = HfDecoder.Read(root["decoder"], path);
        HfTokenizerFiles.CheckPostProcessor(root["post_processor"], path);

        var all = new Dictionary<string, int>(vocab, StringComparer.Ordinal);
        var tokenOf = new Dictionary<int, string>(vocab.Count + added.Count);
        foreach (var (t, id) in vocab) tokenOf.TryAdd(id, t);
        foreach (var t in added) { all[t.Content] = t.Id; tokenOf[t.Id] = t.Content; }
        return new SentencePieceStyleTokenizer(normalizer, preTokenizers, bpe, decoder, added, tokenOf)
        {
            AddedTokens = added, Vocabulary = all, ByteFallback = byteFallback, ModelVocabulary = vocab, Merges = merges, UnkToken = unk,
        };
    }

    /// <summary>Tokens of a text with the range [Start, End) of the text each stands for.</summary>
    public List<(int Id, int Start, int End)> Encode(string text)
    {
        var result = new List<(int, int, int)>();
        foreach (var (token, start, end) in rawAdded.Split(text))
        {
            if (token is not null) { result.Add((token.Id, start, end)); continue; }
            var piece = AlignedText.Of(text, start, end);
            if (normalizer is not null) piece = normalizer.Apply(piece);
            if (piece.Text.Length == 0) continue;
            foreach (var (inner, from, to) in normalizedAdded.Split(piece.Text))
            {
                if (inner is not null)
                {
                    var (s, e) = piece.OriginalRange(from, to);
                    result.Add((inner.Id, s, e));
                    continue;
                }
                IEnumerable<AlignedText> words = [piece.Slice(from, to)];
                foreach (var step in preTokenizers) words = words.SelectMany(step.PreTokenize).ToList();
                foreach (var word in words)
                    foreach (var w in model.Encode(word.Text))
                    {
                        var (s, e) = word.OriginalRange(w.Start, w.End);
                        result.Add((w.Id, s, e));
                    }
            }
        }
        return result;
    }

    /// <summary>The text of ids through the decoder (tokens joined by spaces when the file has no decoder).</summary>
    public string DecodeIds(IEnumerable<int> ids)
    {
        var tokens = ids.Select(id => tokenOf.TryGetValue(id, out var t) ? t : throw new ArgumentException($"token id {id} is not in the vocabulary")).ToList();
        return decoder is null ? string.Join(" ", tokens) : string.Concat(decoder.DecodeChain(tokens));
    }

    // ---------- Microsoft.ML.Tokenizers surface ----------

    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var s = text ?? textSpan.ToString();
        var tokens = Encode(s);
        var max = settings.MaxTokenCount;
        var taken = max > 0 && max < tokens.Count ? tokens.Take(max).ToList() : tokens;
        return new EncodeResults<EncodedToken>
        {
            Tokens = taken.Select(t => new EncodedToken(t.Id, tokenOf[t.Id], new Range(t.Start, t.End))).ToList(),
            NormalizedText = null,
            CharsConsumed = taken.Count == tokens.Count ? s.Length : taken.Count == 0 ? 0 : taken[^1].End,
        };
    }

    public override string Decode(IEnumerable<int> ids) => DecodeIds(ids);

    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten)
    {
        var list = ids.ToList();
        var text = DecodeIds(list);
        if (text.Length > destination.Length) { idsConsumed = 0; charsWritten = 0; return OperationStatus.DestinationTooSmall; }
        text.AsSpan().CopyTo(destination);
        idsConsumed = list.Count;
        charsWritten = text.Length;
        return OperationStatus.Done;
    }
}
