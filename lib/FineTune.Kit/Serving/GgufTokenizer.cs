using FineTune.Kit.Text;

namespace FineTune.Kit.Serving;

/// <summary>
/// The <c>tokenizer.*</c> metadata of a GGUF file, built from the tokenizer files in a model folder so that llama.cpp
/// splits text into the same ids as the kit: byte-level BPE as <c>tokenizer.ggml.model = "gpt2"</c> with tokens, token
/// types and merges, SentencePiece (a SentencePiece-style tokenizer.json, which wins over a tokenizer.model beside it, or the tokenizer.model) as
/// <c>"llama"</c> with tokens, scores and types. llama.cpp does not apply a
/// tokenizer.json NFC normalizer (Qwen2 has one): text already in NFC, as nearly all text is, tokenizes the same.
/// </summary>
public sealed record GgufTokenizer
{
    /// <summary><c>tokenizer.ggml.model</c>: "gpt2" (byte-level BPE) or "llama" (SentencePiece).</summary>
    public required string Model { get; init; }
    /// <summary><c>tokenizer.ggml.pre</c>: which of llama.cpp's pre-tokenizers splits text as the model's does (BPE only).</summary>
    public string? PreTokenizer { get; init; }
    /// <summary>Token strings by id (byte-level form for BPE, e.g. "Ġthe").</summary>
    public required IReadOnlyList<string> Tokens { get; init; }
    /// <summary>Kind of each token.</summary>
    public required IReadOnlyList<GgufTokenType> TokenTypes { get; init; }
    /// <summary>Merges as "left right" (BPE only).</summary>
    public IReadOnlyList<string>? Merges { get; init; }
    /// <summary>Piece scores (SentencePiece only).</summary>
    public IReadOnlyList<float>? Scores { get; init; }
    /// <summary>Whether llama.cpp adds a space before the text (SentencePiece's dummy prefix).</summary>
    public bool? AddSpacePrefix { get; init; }
    /// <summary>The added tokens that swallow the whitespace after them (<c>rstrip</c>); empty for most tokenizers.</summary>
    public IReadOnlySet<string> RStripped { get; init; } = new HashSet<string>();

    // The pre-tokenizer regexes llama.cpp reproduces, by the name tokenizer.ggml.pre gives them there.
    private static readonly (string Name, string Pattern)[] KnownPreTokenizers =
    [
        ("gpt-2", ByteLevel.Gpt2Pattern),
        ("llama-bpe", @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"),
        ("qwen2", @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"),
    ];

    /// <summary>
    /// Reads the tokenizer files of a model folder (tokenizer.json, vocab.json + merges.txt, or tokenizer.model) and
    /// pads the token list to <paramref name="vocabSize"/> rows (the embedding's) with unused slots. Added tokens with
    /// <c>rstrip</c> are accepted only under a file name for which llama.cpp strips after special tokens (<paramref name="name"/>
    /// containing "phi3" or "phi-3", as Phi-3's own tokenizer needs); the exporter then checks that they are the same tokens.
    /// </summary>
    /// <exception cref="GgufExportException">No tokenizer, a vocabulary larger than the model's, or a pre-tokenizer llama.cpp would not reproduce.</exception>
    public static GgufTokenizer FromFolder(string directory, int vocabSize, string? name = null)
    {
        var json = Path.Combine(directory, "tokenizer.json");
        var vocabJson = Path.Combine(directory, "vocab.json");
        var mergesTxt = Path.Combine(directory, "merges.txt");
        var spModel = Path.Combine(directory, "tokenizer.model");
        var configPath = Path.Combine(directory, "tokenizer_config.json");
        var config = File.Exists(configPath) ? HfTokenizerFiles.ReadTokenizerConfig(configPath) : new TokenizerConfig();
        if (File.Exists(json))
        {
            // preferred to a tokenizer.model beside it, as the kit's own loader does: only tokenizer.json holds the added
            // tokens (chat markers such as Phi-3's <|user|> and <|end|>) and their rstrip/lstrip flags
            if (HfTokenizerFiles.ParseJson(json) is System.Text.Json.Nodes.JsonObject root && SentencePieceStyleTokenizer.Describes(root))
                return SentencePieceJsonGguf.FromTokenizerJson(json, root, vocabSize, name is not null && GgufPhi3.NameMakesLlamaCppStrip(name));
            HfBpeSpec spec;
            try { spec = HfTokenizerFiles.ReadTokenizerJson(json); }
            catch (NotByteLevelBpeException) when (File.Exists(spModel)) { return SentencePieceGguf.FromModelFile(spModel, vocabSize); }
            var special = new HashSet<string>(spec.SpecialTokens, StringComparer.Ordinal);
            special.UnionWith(config.AddedTokens.Keys.Where(t => !spec.AddedTokens.ContainsKey(t)));
            var added = new Dictionary<string, int>(spec.AddedTokens, StringComparer.Ordinal);
            foreach (var (t, id) in config.AddedTokens) added.TryAdd(t, id);
            return ByteLevelBpe(json, spec.Vocab, spec.Merges, added, special, spec.PreTokenizerPattern, vocabSize);
        }
        if (File.Exists(vocabJson) && File.Exists(mergesTxt))
        {
            var vocab = HfTokenizerFiles.ReadVocabJson(vocabJson);
            // as TextTokenizer does: <|…|> entries and the configured added tokens are special
            var added = new Dictionary<string, int>(config.AddedTokens, StringComparer.Ordinal);
            foreach (var (t, id) in vocab)
                if (t.Length > 4 && t.StartsWith("<|", StringComparison.Ordinal) && t.EndsWith("|>", StringComparison.Ordinal)) added.TryAdd(t, id);
            return ByteLevelBpe(vocabJson, vocab, HfTokenizerFiles.ReadMergesTxt(mergesTxt), added, added.Keys.ToHashSet(StringComparer.Ordinal),
                                ByteLevel.Gpt2Pattern, vocabSize);
        }
        if (File.Exists(spModel)) return SentencePieceGguf.FromModelFile(spModel, vocabSize);
        throw new GgufExportException($"{directory}: no tokenizer to export (looked for tokenizer.json, vocab.json + merges.txt, tokenizer.model); llama.cpp needs the vocabulary in the GGUF file.");
    }

    private static GgufTokenizer ByteLevelBpe(string source, IReadOnlyDictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges,
        IReadOnlyDictionary<string, int> added, IReadOnlySet<string> special, string pattern, int vocabSize)
    {
        var pre = KnownPreTokenizers.FirstOrDefault(k => k.Pattern == pattern).Name
            ?? throw new GgufExportException($"{source}: the pre-tokenizer regex '{pattern}' is not one llama.cpp reproduces " +
                $"(known: {string.Join(", ", KnownPreTokenizers.Select(k => k.Name))}); llama.cpp would split text differently and silently produce other token ids.");
        var tokens = new string?[vocabSize];
        var types = new GgufTokenType[vocabSize];
        void Put(string token, int id, GgufTokenType type)
        {
            if (id >= vocabSize)
                throw new GgufExportException($"{source}: token '{token}' has id {id}, but the model's embedding has only {vocabSize} rows (vocab_size).");
            tokens[id] = token;
            types[id] = type;
        }
        foreach (var (token, id) in vocab) Put(token, id, GgufTokenType.Normal);
        foreach (var (token, id) in added) Put(token, id, special.Contains(token) ? GgufTokenType.Control : GgufTokenType.UserDefined);
        for (int id = 0; id < vocabSize; id++)
            if (tokens[id] is null)
            {
                tokens[id] = $"[PAD{id}]";
                types[id] = GgufTokenType.Unused;
            }
        return new GgufTokenizer
        {
            Model = "gpt2", PreTokenizer = pre, Tokens = tokens!, TokenTypes = types,
            Merges = merges.Select(m => m.Left + " " + m.Right).ToArray(),
        };
    }

    /// <summary>
    /// Writes the tokenizer keys, plus the special-token roles and chat template of <paramref name="roles"/>; roles the
    /// tokenizer leaves open are taken from the model's config.json (<paramref name="config"/>).
    /// </summary>
    public void WriteTo(GgufWriter writer, TextTokenizer roles, Models.ModelConfig? config = null)
    {
        writer.Set("tokenizer.ggml.model", GgufValue.String(Model));
        if (PreTokenizer is not null) writer.Set("tokenizer.ggml.pre", GgufValue.String(PreTokenizer));
        writer.Set("tokenizer.ggml.tokens", GgufValue.Strings(Tokens));
        if (Scores is not null) writer.Set("tokenizer.ggml.scores", GgufValue.Float32s(Scores));
        writer.Set("tokenizer.ggml.token_type", GgufValue.Int32s(TokenTypes.Select(t => (int)t)));
        if (Merges is not null) writer.Set("tokenizer.ggml.merges", GgufValue.Strings(Merges));
        void Id(string key, int? id)
        {
            if (id is not { } i) return;
            if (i < 0 || i >= Tokens.Count) throw new GgufExportException($"tokenizer: {key} {i} is outside the vocabulary of {Tokens.Count} tokens.");
            writer.Set(key, GgufValue.UInt32((uint)i));
        }
        Id("tokenizer.ggml.bos_token_id", roles.BosId ?? config?.BosTokenId);
        Id("tokenizer.ggml.eos_token_id", roles.EosId ?? (config?.EosTokenIds.Count > 0 ? config.EosTokenIds[0] : null));
        Id("tokenizer.ggml.unknown_token_id", roles.UnkId);
        Id("tokenizer.ggml.padding_token_id", roles.PadId ?? config?.PadTokenId);
        // stated explicitly: llama.cpp's defaults differ by tokenizer model and pre-tokenizer
        writer.Set("tokenizer.ggml.add_bos_token", GgufValue.Bool(roles.AddsBos));
        writer.Set("tokenizer.ggml.add_eos_token", GgufValue.Bool(roles.AddsEos));
        if (AddSpacePrefix is { } prefix) writer.Set("tokenizer.ggml.add_space_prefix", GgufValue.Bool(prefix));
        if (roles.Config.ChatTemplate is { } template) writer.Set("tokenizer.chat_template", GgufValue.String(template));
    }
}
