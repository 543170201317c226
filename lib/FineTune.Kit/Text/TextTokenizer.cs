using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace FineTune.Kit.Text;

/// <summary>One token of an encoding: its id and the characters of the input it stands for.</summary>
public readonly record struct TokenSpan(int Id, int Start, int Length);

/// <summary>
/// The one tokenizer type the kit uses: byte-level BPE (Hugging Face tokenizer.json, or vocab.json + merges.txt) or
/// SentencePiece (tokenizer.model), backed by Microsoft.ML.Tokenizers, with the special tokens and roles
/// (BOS/EOS/PAD/UNK) read from tokenizer_config.json.
/// </summary>
public sealed class TextTokenizer
{
    private readonly IReadOnlyDictionary<string, int> vocab;
    private readonly Dictionary<int, string> byId;
    private readonly HashSet<int> specialIds;
    private readonly bool addBos, addEos;
    private readonly bool guessRoles;

    private TextTokenizer(Tokenizer inner, IReadOnlyDictionary<string, int> vocab, IReadOnlyDictionary<string, int> specialTokens,
                          TokenizerConfig config, string? templateBos, bool guessRoles, IReadOnlyCollection<string>? plainAdded = null)
    {
        this.guessRoles = guessRoles;
        Inner = inner;
        this.vocab = vocab;
        SpecialTokens = specialTokens;
        byId = new Dictionary<int, string>(vocab.Count + specialTokens.Count);
        foreach (var (t, id) in vocab) byId.TryAdd(id, t);
        foreach (var (t, id) in specialTokens) byId[id] = t;
        // Added tokens that tokenizer.json marks as not special are matched verbatim but kept when decoding skips specials.
        specialIds = specialTokens.Where(kv => plainAdded?.Contains(kv.Key) != true).Select(kv => kv.Value).ToHashSet();
        VocabSize = byId.Count == 0 ? 0 : byId.Keys.Max() + 1;
        BosId = Role(config.BosToken ?? templateBos, "<|begin_of_text|>", "<s>", "<|endoftext|>");
        EosId = Role(config.EosToken, "<|end_of_text|>", "</s>", "<|endoftext|>");
        PadId = Role(config.PadToken, "<pad>", "<|pad|>");
        UnkId = Role(config.UnkToken, "<unk>");
        addBos = (config.AddBosToken || templateBos is not null) && BosId is not null;
        addEos = config.AddEosToken && EosId is not null;
        Config = config;
    }

    /// <summary>The Microsoft.ML.Tokenizers tokenizer doing the work.</summary>
    public Tokenizer Inner { get; }

    /// <summary>One more than the largest id (the size an embedding table needs).</summary>
    public int VocabSize { get; }

    /// <summary>Beginning-of-sequence id, when the tokenizer has one.</summary>
    public int? BosId { get; }
    /// <summary>End-of-sequence id, when the tokenizer has one.</summary>
    public int? EosId { get; }
    /// <summary>Padding id, when the tokenizer has one.</summary>
    public int? PadId { get; }
    /// <summary>Unknown-token id, when the tokenizer has one.</summary>
    public int? UnkId { get; }

    /// <summary>Whether <c>Encode(text, addSpecialTokens: true)</c> puts BOS first.</summary>
    public bool AddsBos => addBos;
    /// <summary>Whether <c>Encode(text, addSpecialTokens: true)</c> puts EOS last.</summary>
    public bool AddsEos => addEos;

    /// <summary>Special tokens (content to id): written in text, each maps to its single id.</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens { get; }

    /// <summary>The tokenizer_config.json settings (defaults when there was none).</summary>
    public TokenizerConfig Config { get; }

    /// <summary>
    /// Loads a tokenizer folder: tokenizer.json, else vocab.json + merges.txt, else tokenizer.model
    /// (tokenizer_config.json is read when present).
    /// </summary>
    public static TextTokenizer Load(string dir)
    {
        if (!Directory.Exists(dir)) throw new TokenizerFormatException($"tokenizer folder '{dir}' does not exist");
        var config = Path.Combine(dir, "tokenizer_config.json");
        var configPath = File.Exists(config) ? config : null;
        var json = Path.Combine(dir, "tokenizer.json");
        var vocabJson = Path.Combine(dir, "vocab.json");
        var mergesTxt = Path.Combine(dir, "merges.txt");
        var spModel = Path.Combine(dir, "tokenizer.model");
        if (File.Exists(json))
        {
            try { return FromTokenizerJson(json, configPath); }
            // A tokenizer.json with a part the kit does not implement, next to its tokenizer.model: use the model, with
            // the added tokens the json lists (chat markers that tokenizer_config.json may not repeat)
            catch (NotByteLevelBpeException) when (File.Exists(spModel))
            {
                return FromSentencePiece(spModel, configPath, HfTokenizerFiles.ReadAddedTokenIds(json));
            }
        }
        if (File.Exists(vocabJson) && File.Exists(mergesTxt)) return FromVocabAndMerges(vocabJson, mergesTxt, configPath);
        if (File.Exists(spModel)) return FromSentencePiece(spModel, configPath);
        throw new TokenizerFormatException(
            $"no tokenizer found in '{dir}': looked for tokenizer.json, vocab.json + merges.txt, and tokenizer.model");
    }

    /// <summary>
    /// Loads a Hugging Face tokenizer.json (and optionally its tokenizer_config.json): byte-level BPE, or a character-level
    /// SentencePiece-style BPE (Metaspace, Replace/Prepend normalizers, byte fallback) as Llama 2, Mistral, Phi-3 and Gemma ship.
    /// </summary>
    public static TextTokenizer FromTokenizerJson(string tokenizerJsonPath, string? tokenizerConfigPath = null)
    {
        if (HfTokenizerFiles.ParseJson(tokenizerJsonPath) is JsonObject root && SentencePieceStyleTokenizer.Describes(root))
            return FromSentencePieceStyleJson(tokenizerJsonPath, root, tokenizerConfigPath);
        var spec = HfTokenizerFiles.ReadTokenizerJson(tokenizerJsonPath);
        var config = tokenizerConfigPath is null ? new TokenizerConfig() : HfTokenizerFiles.ReadTokenizerConfig(tokenizerConfigPath);
        // Every added token is matched verbatim in text (HF does the same for non-special added tokens).
        var special = new Dictionary<string, int>(spec.AddedTokens, StringComparer.Ordinal);
        foreach (var (t, id) in config.AddedTokens) special.TryAdd(t, id);
        var plainAdded = spec.AddedTokens.Keys.Where(t => !spec.SpecialTokens.Contains(t)).ToHashSet(StringComparer.Ordinal);
        var tokenizer = ByteLevelBpe(tokenizerJsonPath, spec.Vocab, spec.Merges, special, config, spec.PreTokenizerPattern,
                            spec.NfcNormalize ? new NfcNormalizer() : null, spec.TemplateBosToken, guessRoles: tokenizerConfigPath is null, plainAdded);
        if (spec.IgnoreMerges) CheckIgnoreMergesChangesNothing(tokenizerJsonPath, tokenizer, spec);
        return tokenizer;
    }

    // A character-level BPE tokenizer.json (Llama 2, Mistral, Phi-3, Gemma): the kit's own pipeline does the work.
    private static TextTokenizer FromSentencePieceStyleJson(string path, JsonObject root, string? tokenizerConfigPath)
    {
        var sp = SentencePieceStyleTokenizer.Read(root, path);
        var config = tokenizerConfigPath is null ? new TokenizerConfig() : HfTokenizerFiles.ReadTokenizerConfig(tokenizerConfigPath);
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in sp.AddedTokens) added[t.Content] = t.Id; // a repeated content keeps its last id
        var plainAdded = sp.AddedTokens.Where(t => !t.Special).Select(t => t.Content).ToHashSet(StringComparer.Ordinal);
        return new TextTokenizer(sp, sp.Vocabulary, added, config, HfTokenizerFiles.ReadTemplateBos(root["post_processor"]),
                                 guessRoles: tokenizerConfigPath is null, plainAdded);
    }

    // ignore_merges = true (Llama 3) emits a pre-token found whole in the vocabulary as that one token instead of
    // merging it. The kit always merges; that is the same exactly when merging every such vocabulary entry gives the
    // entry back, which is checked here so a vocabulary where it differs is refused rather than tokenized differently.
    private static void CheckIgnoreMergesChangesNothing(string path, TextTokenizer tokenizer, HfBpeSpec spec)
    {
        var regex = new Regex(spec.PreTokenizerPattern, RegexOptions.CultureInvariant);
        var utf8 = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true);
        var bytes = new List<byte>();
        foreach (var (token, id) in spec.Vocab)
        {
            if (spec.AddedTokens.ContainsKey(token)) continue;
            bytes.Clear();
            if (!ByteLevel.TryAppendBytes(token, bytes)) continue;
            string text;
            try { text = utf8.GetString(bytes.ToArray()); }
            catch (System.Text.DecoderFallbackException) { continue; } // partial characters never form a whole pre-token
            if (spec.NfcNormalize && !text.IsNormalized(System.Text.NormalizationForm.FormC)) continue;
            var match = regex.Match(text);
            if (!match.Success || match.Length != text.Length) continue; // never a single pre-token
            var ids = tokenizer.Inner.EncodeToIds(text);
            if (ids.Count != 1 || ids[0] != id)
                throw new TokenizerFormatException(
                    $"{path}: model.ignore_merges = true changes how '{token}' tokenizes (whole: id {id}; merged: {string.Join(" ", ids)}), and the kit's BPE always merges");
        }
    }

    /// <summary>Loads GPT-2 style vocab.json + merges.txt (byte-level BPE, GPT-2 pre-tokenizer).</summary>
    public static TextTokenizer FromVocabAndMerges(string vocabJsonPath, string mergesTxtPath, string? tokenizerConfigPath = null)
    {
        var vocab = HfTokenizerFiles.ReadVocabJson(vocabJsonPath);
        var merges = HfTokenizerFiles.ReadMergesTxt(mergesTxtPath);
        var config = tokenizerConfigPath is null ? new TokenizerConfig() : HfTokenizerFiles.ReadTokenizerConfig(tokenizerConfigPath);
        var special = new Dictionary<string, int>(config.AddedTokens, StringComparer.Ordinal);
        // Without a config, tokens written like <|endoftext|> in the vocabulary are the special ones (GPT-2 convention).
        foreach (var (t, id) in vocab)
            if (t.Length > 4 && t.StartsWith("<|", StringComparison.Ordinal) && t.EndsWith("|>", StringComparison.Ordinal))
                special.TryAdd(t, id);
        foreach (var t in new[] { config.BosToken, config.EosToken, config.PadToken, config.UnkToken })
            if (t is not null && vocab.TryGetValue(t, out var id)) special.TryAdd(t, id);
        return ByteLevelBpe(mergesTxtPath, vocab, merges, special, config, ByteLevel.Gpt2Pattern, null, null, guessRoles: tokenizerConfigPath is null);
    }

    /// <summary>Loads a SentencePiece tokenizer.model (Llama style) through <see cref="LlamaTokenizer"/>.</summary>
    public static TextTokenizer FromSentencePiece(string tokenizerModelPath, string? tokenizerConfigPath = null) =>
        FromSentencePiece(tokenizerModelPath, tokenizerConfigPath, null);

    private static TextTokenizer FromSentencePiece(string tokenizerModelPath, string? tokenizerConfigPath, IReadOnlyDictionary<string, int>? moreAddedTokens)
    {
        var config = tokenizerConfigPath is null ? new TokenizerConfig() : HfTokenizerFiles.ReadTokenizerConfig(tokenizerConfigPath);
        if (moreAddedTokens is { Count: > 0 })
        {
            var added = new Dictionary<string, int>(moreAddedTokens, StringComparer.Ordinal);
            foreach (var (token, id) in config.AddedTokens) added[token] = id;   // tokenizer_config.json's word is last
            config = config with { AddedTokens = added };
        }
        LlamaTokenizer sp;
        using var stream = File.OpenRead(tokenizerModelPath);
        try
        {
            sp = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false,
                                       specialTokens: config.AddedTokens.Count > 0 ? config.AddedTokens : null);
        }
        // Protobuf parse errors derive from IOException, so catch broadly: anything here means a bad model file.
        catch (Exception e) when (e is not KitException)
        {
            throw new TokenizerFormatException($"{tokenizerModelPath}: not a readable SentencePiece model: {e.Message}", e);
        }
        var special = new Dictionary<string, int>(config.AddedTokens, StringComparer.Ordinal)
        {
            [sp.BeginningOfSentenceToken] = sp.BeginningOfSentenceId,
            [sp.EndOfSentenceToken] = sp.EndOfSentenceId,
        };
        var withDefaults = config with
        {
            BosToken = config.BosToken ?? sp.BeginningOfSentenceToken,
            EosToken = config.EosToken ?? sp.EndOfSentenceToken,
            UnkToken = config.UnkToken ?? sp.UnknownToken,
            // SentencePiece models put BOS first unless the config says otherwise.
            AddBosToken = tokenizerConfigPath is null || config.AddBosToken,
        };
        return new TextTokenizer(sp, sp.Vocabulary, special, withDefaults, null, guessRoles: false);
    }

    /// <summary>A tokenizer over a freshly trained model, without writing files first.</summary>
    public static TextTokenizer FromModel(BpeModel model, TokenizerConfig? config = null)
    {
        var vocab = new Dictionary<string, int>(model.VocabSize, StringComparer.Ordinal);
        for (var id = 0; id < model.Tokens.Count; id++) vocab[model.Tokens[id]] = id;
        var special = model.SpecialTokens.ToDictionary(t => t, t => vocab[t], StringComparer.Ordinal);
        return ByteLevelBpe("trained model", vocab, model.Merges.ToList(), special, config ?? new TokenizerConfig(), ByteLevel.Gpt2Pattern, null, null,
                            guessRoles: config is null);
    }

    private static TextTokenizer ByteLevelBpe(string source, Dictionary<string, int> vocab, List<(string Left, string Right)> merges,
                                              Dictionary<string, int> special, TokenizerConfig config, string pattern,
                                              Normalizer? normalizer, string? templateBos, bool guessRoles,
                                              IReadOnlyCollection<string>? plainAdded = null)
    {
        foreach (var (l, r) in merges)
            if (!vocab.ContainsKey(l + r))
                throw new TokenizerFormatException($"{source}: merge '{l} {r}' produces '{l + r}', which is not in the vocabulary");
        Regex regex;
        try { regex = new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant); }
        catch (ArgumentException e) { throw new TokenizerFormatException($"{source}: pre-tokenizer regex is not usable: {e.Message}", e); }
        var vocabWithSpecial = new Dictionary<string, int>(vocab, StringComparer.Ordinal);
        foreach (var (t, id) in special) vocabWithSpecial.TryAdd(t, id);
        var options = new BpeOptions(vocabWithSpecial)
        {
            Merges = merges.Select(m => m.Left + " " + m.Right),
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(regex, special.Count > 0 ? special : null),
            SpecialTokens = special.Count > 0 ? special : null,
            Normalizer = normalizer,
        };
        Tokenizer inner;
        try { inner = BpeTokenizer.Create(options); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
        {
            throw new TokenizerFormatException($"{source}: the BPE data was rejected: {e.Message}", e);
        }
        return new TextTokenizer(inner, vocabWithSpecial, special, config, templateBos, guessRoles, plainAdded);
    }

    /// <summary>
    /// Encodes text; special tokens written in it map to their ids. With <paramref name="addSpecialTokens"/>, BOS/EOS are
    /// added as tokenizer_config.json asks (add_bos_token / add_eos_token, or a post-processor template).
    /// </summary>
    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = false)
    {
        var ids = Inner.EncodeToIds(text);
        if (!addSpecialTokens || (!addBos && !addEos)) return ids;
        var result = new List<int>(ids.Count + 2);
        if (addBos) result.Add(BosId!.Value);
        result.AddRange(ids);
        if (addEos) result.Add(EosId!.Value);
        return result;
    }

    /// <summary>
    /// Decodes ids to text; special tokens are written out unless <paramref name="skipSpecialTokens"/>. Spaces before
    /// punctuation and contractions are cleaned up (<see cref="CleanUpTokenizationSpaces(string)"/>) when
    /// <paramref name="cleanUpTokenizationSpaces"/> says so, or, when it is null, when tokenizer_config.json does.
    /// </summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false, bool? cleanUpTokenizationSpaces = null)
    {
        var list = skipSpecialTokens ? ids.Where(id => !specialIds.Contains(id)).ToList() : ids.ToList();
        foreach (var id in list)
            if (id < 0 || !byId.ContainsKey(id)) throw new ArgumentException($"token id {id} is not in the vocabulary (size {VocabSize})");
        var text = Inner.Decode(list) ?? "";
        return cleanUpTokenizationSpaces ?? Config.CleanUpTokenizationSpaces ? CleanUpTokenizationSpaces(text) : text;
    }

    // what transformers' clean_up_tokenization replaces, in its order
    private static readonly (string From, string To)[] TokenizationSpaces =
    [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ];

    /// <summary>
    /// Removes the spaces word-level tokenizers left before punctuation and English contractions, as transformers'
    /// <c>clean_up_tokenization</c> does: " ." → ".", " ?" → "?", " !" → "!", " ," → ",", " ' " → "'", " n't" → "n't",
    /// " 'm" → "'m", " 's" → "'s", " 've" → "'ve", " 're" → "'re", each over the whole text, in that order.
    /// </summary>
    public static string CleanUpTokenizationSpaces(string text)
    {
        foreach (var (from, to) in TokenizationSpaces) text = text.Replace(from, to, StringComparison.Ordinal);
        return text;
    }

    /// <summary>The id of a token string (byte-level form, e.g. "Ġthe"), if it is in the vocabulary.</summary>
    public int? TokenToId(string token) => vocab.TryGetValue(token, out var id) || SpecialTokens.TryGetValue(token, out id) ? id : null;

    /// <summary>The token string of an id, if any.</summary>
    public string? IdToToken(int id) => byId.GetValueOrDefault(id);

    /// <summary>Whether an id is a special token (what <c>Decode(ids, skipSpecialTokens: true)</c> drops).</summary>
    public bool IsSpecial(int id) => specialIds.Contains(id);

    /// <summary>
    /// True for byte-level BPE, where encoding two strings one after the other gives the same text back as encoding their
    /// concatenation; false for SentencePiece, which adds its dummy-prefix space to every call.
    /// </summary>
    public bool IsByteLevel => Inner is BpeTokenizer;

    /// <summary>
    /// Encodes text and reports, per token, the character range of <paramref name="text"/> it came from. When the
    /// tokenizer normalizes (SentencePiece adds a dummy-prefix space), ranges are mapped back to the original text.
    /// </summary>
    public IReadOnlyList<TokenSpan> EncodeWithOffsets(string text)
    {
        var tokens = Inner.EncodeToTokens(text, out var normalized);
        var n = normalized ?? text;
        var shift = n.Length - text.Length;   // characters the normalizer put in front (dummy prefix)
        return tokens.Select(t =>
        {
            var (start, length) = t.Offset.GetOffsetAndLength(n.Length);
            var from = Math.Clamp(start - shift, 0, text.Length);
            var to = Math.Clamp(start + length - shift, from, text.Length);
            return new TokenSpan(t.Id, from, to - from);
        }).ToList();
    }

    // With a tokenizer_config.json its roles are taken as written (a null bos_token means no BOS); without one, the
    // conventional token names stand in.
    private int? Role(string? configured, params string[] conventional)
    {
        if (configured is not null) return TokenToId(configured);
        if (!guessRoles) return null;
        foreach (var c in conventional)
            if (SpecialTokens.TryGetValue(c, out var id)) return id;
        return null;
    }
}
