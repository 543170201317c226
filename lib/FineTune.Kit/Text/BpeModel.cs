using System.Collections.Concurrent;
using System.Text;

namespace FineTune.Kit.Text;

/// <summary>
/// A byte-level BPE vocabulary as the trainer produces it: token strings by id (special tokens first, then the 256
/// byte symbols, then one token per merge), the ranked merges, and a small reference encoder of its own.
/// </summary>
public sealed class BpeModel
{
    private readonly Dictionary<string, int> ids;
    private readonly Dictionary<(string, string), int> ranks;
    private readonly ConcurrentDictionary<string, int[]> cache = new(StringComparer.Ordinal);

    /// <summary>Creates a model from token strings by id, ranked merges and special tokens (which must be in the vocabulary).</summary>
    public BpeModel(IReadOnlyList<string> tokens, IReadOnlyList<(string Left, string Right)> merges, IReadOnlyList<string> specialTokens)
    {
        Tokens = tokens;
        Merges = merges;
        SpecialTokens = specialTokens;
        ids = new Dictionary<string, int>(tokens.Count, StringComparer.Ordinal);
        for (var i = 0; i < tokens.Count; i++)
            if (!ids.TryAdd(tokens[i], i)) throw new TokenizerFormatException($"token '{tokens[i]}' appears twice in the vocabulary (ids {ids[tokens[i]]} and {i})");
        ranks = new Dictionary<(string, string), int>(merges.Count);
        for (var r = 0; r < merges.Count; r++) ranks.TryAdd(merges[r], r);
        foreach (var s in specialTokens)
            if (!ids.ContainsKey(s)) throw new TokenizerFormatException($"special token '{s}' is not in the vocabulary");
    }

    /// <summary>Token strings by id (byte-level characters for ordinary tokens).</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>Merges by rank: the first merge was learned first and is applied first.</summary>
    public IReadOnlyList<(string Left, string Right)> Merges { get; }

    /// <summary>Special tokens, matched verbatim in text and never split.</summary>
    public IReadOnlyList<string> SpecialTokens { get; }

    /// <summary>Number of tokens, special ones included.</summary>
    public int VocabSize => Tokens.Count;

    /// <summary>The id of a token string, if any.</summary>
    public int? TokenToId(string token) => ids.TryGetValue(token, out var id) ? id : null;

    /// <summary>
    /// Encodes with this model's own implementation (split out special tokens, GPT-2 pre-tokenize, apply merges by rank).
    /// It is the reference the library-backed <see cref="TextTokenizer"/> is checked against.
    /// </summary>
    public IReadOnlyList<int> Encode(string text)
    {
        var result = new List<int>();
        foreach (var (piece, isSpecial) in SpecialTokenSplitter.Split(text, SpecialTokens))
        {
            if (isSpecial) { result.Add(ids[piece]); continue; }
            foreach (var word in ByteLevel.PreTokenize(piece)) result.AddRange(EncodeWord(ByteLevel.Encode(word)));
        }
        return result;
    }

    /// <summary>Decodes ids back to text (special tokens written out verbatim).</summary>
    public string Decode(IEnumerable<int> tokenIds)
    {
        var sb = new StringBuilder();
        var bytes = new List<byte>();
        var specials = SpecialTokens.ToHashSet(StringComparer.Ordinal);
        foreach (var id in tokenIds)
        {
            var token = Tokens[id];
            if (specials.Contains(token))
            {
                sb.Append(Encoding.UTF8.GetString(bytes.ToArray()));
                bytes.Clear();
                sb.Append(token);
            }
            else if (!ByteLevel.TryAppendBytes(token, bytes))
                throw new TokenizerFormatException($"token {id} '{token}' has characters outside the byte-level alphabet");
        }
        sb.Append(Encoding.UTF8.GetString(bytes.ToArray()));
        return sb.ToString();
    }

    /// <summary>Writes tokenizer.json, vocab.json, merges.txt and tokenizer_config.json into a folder (created if needed).</summary>
    public void Save(string dir, TokenizerConfig? config = null)
    {
        Directory.CreateDirectory(dir);
        HfTokenizerFiles.WriteTokenizerJson(Path.Combine(dir, "tokenizer.json"), this);
        HfTokenizerFiles.WriteVocabJson(Path.Combine(dir, "vocab.json"), this);
        HfTokenizerFiles.WriteMergesTxt(Path.Combine(dir, "merges.txt"), this);
        HfTokenizerFiles.WriteTokenizerConfig(Path.Combine(dir, "tokenizer_config.json"), this, config ?? new TokenizerConfig());
    }

    /// <summary>The library-backed tokenizer for this model (what the rest of the kit uses).</summary>
    public TextTokenizer ToTokenizer(TokenizerConfig? config = null) => TextTokenizer.FromModel(this, config);

    private int[] EncodeWord(string word)
    {
        if (cache.TryGetValue(word, out var hit)) return hit;
        var symbols = new List<string>(word.Length);
        foreach (var c in word) symbols.Add(c.ToString());
        while (symbols.Count > 1)
        {
            // Find the best-ranked adjacent pair, then merge every non-overlapping occurrence of it, left to right.
            var bestRank = int.MaxValue;
            for (var i = 0; i + 1 < symbols.Count; i++)
                if (ranks.TryGetValue((symbols[i], symbols[i + 1]), out var r) && r < bestRank) bestRank = r;
            if (bestRank == int.MaxValue) break;
            var (left, right) = Merges[bestRank];
            var merged = new List<string>(symbols.Count);
            for (var i = 0; i < symbols.Count; i++)
            {
                if (i + 1 < symbols.Count && symbols[i] == left && symbols[i + 1] == right) { merged.Add(left + right); i++; }
                else merged.Add(symbols[i]);
            }
            symbols = merged;
        }
        var result = symbols.Select(s => ids[s]).ToArray();
        if (cache.Count < 100_000) cache[word] = result;
        return result;
    }
}
