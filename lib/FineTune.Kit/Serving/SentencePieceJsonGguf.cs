using System.Text.Json.Nodes;
using FineTune.Kit.Text;

namespace FineTune.Kit.Serving;

/// <summary>
/// A SentencePiece-style tokenizer.json (character-level BPE with byte fallback) as llama.cpp's "llama" tokenizer:
/// tokens, a score per token and token types (BYTE for &lt;0xNN&gt;). llama.cpp merges any adjacent pair whose
/// concatenation is a token, highest score first, and puts a space before the text and after every special token. That
/// splits text as the tokenizer.json does when (a) spaces become "▁" by the Prepend("▁") + Replace normalizers
/// (Llama 2, TinyLlama, Phi-3) or by Replace alone (Gemma, no space prefix), (b) every way of cutting a token into two
/// tokens is a merge, with the merges of one token next to each other in rank, and (c) added tokens have no strip flags
/// and are matched unnormalized, except <c>rstrip</c> in a file named for Phi-3, where llama.cpp strips after special
/// tokens by a rule of its own (checked against these flags by the exporter). A file that breaks one of these is
/// refused, naming what differs.
/// </summary>
internal static class SentencePieceJsonGguf
{
    public static GgufTokenizer FromTokenizerJson(string path, JsonObject root, int vocabSize, bool rstripAllowed = false)
    {
        SentencePieceStyleTokenizer sp;
        try { sp = SentencePieceStyleTokenizer.Read(root, path); }
        catch (TokenizerFormatException e) { throw new GgufExportException(e.Message, e); }

        foreach (var step in sp.PreTokenizers)
            switch (step)
            {
                case Metaspace:
                    throw new GgufExportException($"{path}: a Metaspace pre-tokenizer has no llama.cpp equivalent (llama.cpp adds a space after every special token and before text that already starts with one); the Prepend + Replace normalizer form has");
                case SplitPreTokenizer { Literal: " " }:
                    break; // after the normalizer turned every space into "▁" there is nothing left to split (Gemma 3)
                default:
                    throw new GgufExportException($"{path}: pre_tokenizer {step} has no llama.cpp \"llama\" equivalent (it splits only at spaces)");
            }
        var addSpacePrefix = sp.NormalizerStep switch
        {
            SequenceNormalizer { Steps: [PrependNormalizer { Prefix: "▁" }, ReplaceNormalizer { Literal: " ", Content: "▁" }] } => true,
            ReplaceNormalizer { Literal: " ", Content: "▁" } => false,
            var other => throw new GgufExportException(
                $"{path}: normalizer {Describe(other)} has no llama.cpp equivalent (supported: Prepend \"▁\" then Replace \" \" by \"▁\", or that Replace alone)"),
        };
        foreach (var t in sp.AddedTokens)
            if (t.LStrip || (t.RStrip && !rstripAllowed) || t.SingleWord || t.Normalized)
                throw new GgufExportException($"{path}: added token '{t.Content}' has {(t.LStrip ? "lstrip" : t.RStrip ? "rstrip" : t.SingleWord ? "single_word" : "normalized")} = true, which llama.cpp's \"llama\" tokenizer does not reproduce" +
                    (t.RStrip && !t.LStrip ? " (except for Phi-3's tokens in a file whose name contains \"phi3\" or \"phi-3\")" : ""));

        // A token's score: minus the rank of the first merge producing it, so lower ranks merge first.
        var vocab = sp.ModelVocabulary;
        var firstRank = new Dictionary<string, int>(StringComparer.Ordinal);
        var lastRank = new Dictionary<string, int>(StringComparer.Ordinal);
        var merges = new HashSet<(string, string)>(sp.Merges);
        for (var rank = 0; rank < sp.Merges.Count; rank++)
        {
            var made = sp.Merges[rank].Left + sp.Merges[rank].Right;
            if (firstRank.TryAdd(made, rank)) { lastRank[made] = rank; continue; }
            if (lastRank[made] != rank - 1)
                throw new GgufExportException($"{path}: merges {lastRank[made]} and {rank} both make '{made}' with other merges between them; llama.cpp scores a token, not a merge, and would order them differently");
            lastRank[made] = rank;
        }
        foreach (var (token, _) in vocab)
        {
            if (ByteFallbackDecoder.TryParseByteToken(token, out _)) continue;
            for (var cut = 1; cut < token.Length; cut++)
            {
                if (char.IsLowSurrogate(token[cut])) continue;
                string left = token[..cut], right = token[cut..];
                var leftKnown = vocab.ContainsKey(left) || IsOneCharacter(left);
                var rightKnown = vocab.ContainsKey(right) || IsOneCharacter(right);
                if (leftKnown && rightKnown && !merges.Contains((left, right)))
                    throw new GgufExportException($"{path}: '{token}' is '{left}' + '{right}', which llama.cpp would merge, but the merges have no '{left} {right}'");
            }
        }

        var tokens = new string?[vocabSize];
        var scores = new float[vocabSize];
        var types = new GgufTokenType[vocabSize];
        void Put(string token, int id, GgufTokenType type)
        {
            if (id >= vocabSize)
                throw new GgufExportException($"{path}: token '{token}' has id {id}, but the model's embedding has only {vocabSize} rows (vocab_size).");
            tokens[id] = token;
            types[id] = type;
            scores[id] = firstRank.TryGetValue(token, out var rank) ? -rank : 0f;
        }
        foreach (var (token, id) in vocab)
            Put(token, id, token == sp.UnkToken ? GgufTokenType.Unknown
                : ByteFallbackDecoder.TryParseByteToken(token, out _) ? GgufTokenType.Byte : GgufTokenType.Normal);
        foreach (var t in sp.AddedTokens) Put(t.Content, t.Id, t.Special ? GgufTokenType.Control : GgufTokenType.UserDefined);
        for (var id = 0; id < vocabSize; id++)
            if (tokens[id] is null)
            {
                tokens[id] = $"[PAD{id}]";
                types[id] = GgufTokenType.Unused;
                scores[id] = -1e9f;
            }
        return new GgufTokenizer
        {
            Model = "llama", Tokens = tokens!, TokenTypes = types, Scores = scores, AddSpacePrefix = addSpacePrefix,
            RStripped = sp.AddedTokens.Where(t => t.RStrip).Select(t => t.Content).ToHashSet(StringComparer.Ordinal),
        };
    }

    private static bool IsOneCharacter(string s) => s.Length == 1 || (s.Length == 2 && char.IsSurrogatePair(s[0], s[1]));

    private static string Describe(HfNormalizer? n) => n switch
    {
        null => "(none)",
        SequenceNormalizer seq => "Sequence [" + string.Join(", ", seq.Steps.Select(Describe)) + "]",
        ReplaceNormalizer r => $"Replace {System.Text.Json.JsonSerializer.Serialize(r.Literal ?? r.Regex?.ToString())} by {System.Text.Json.JsonSerializer.Serialize(r.Content)}",
        PrependNormalizer p => $"Prepend {System.Text.Json.JsonSerializer.Serialize(p.Prefix)}",
        _ => n.GetType().Name,
    };
}
