using System.Text;

namespace FineTune.Kit.Text;

/// <summary>One token of a word: its id and the characters [Start, End) of the word it covers.</summary>
internal readonly record struct WordToken(int Id, int Start, int End);

/// <summary>
/// BPE over characters, as tokenizer.json's "BPE" model runs for SentencePiece-style vocabularies (Llama 2, Mistral,
/// Gemma, Phi-3): a word starts as one symbol per character; a character missing from the vocabulary becomes its UTF-8
/// bytes as &lt;0xNN&gt; tokens when <c>byte_fallback</c> is on, else the unknown token (consecutive ones fused into one
/// with <c>fuse_unk</c>). Then the lowest-ranked merge of adjacent symbols is applied, leftmost first, until none applies.
/// </summary>
internal sealed class SentencePieceBpe
{
    private readonly IReadOnlyDictionary<string, int> vocab;
    private readonly Dictionary<(int Left, int Right), (int Rank, int Merged)> merges = new();
    private readonly int? unkId;
    private readonly bool fuseUnk, byteFallback, ignoreMerges;
    private readonly int[] byteIds = new int[256];
    private readonly bool allBytes;

    public SentencePieceBpe(IReadOnlyDictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> mergeList, string? unkToken,
                            bool fuseUnk, bool byteFallback, bool ignoreMerges, string source)
    {
        this.vocab = vocab;
        this.fuseUnk = fuseUnk;
        this.byteFallback = byteFallback;
        this.ignoreMerges = ignoreMerges;
        if (unkToken is not null)
            unkId = vocab.TryGetValue(unkToken, out var u) ? u
                : throw new TokenizerFormatException($"{source}: model.unk_token '{unkToken}' is not in the vocabulary");
        for (var rank = 0; rank < mergeList.Count; rank++)
        {
            var (l, r) = mergeList[rank];
            if (!vocab.TryGetValue(l, out var li) || !vocab.TryGetValue(r, out var ri))
                throw new TokenizerFormatException($"{source}: merge {rank} '{l} {r}' uses a token that is not in the vocabulary");
            if (!vocab.TryGetValue(l + r, out var merged))
                throw new TokenizerFormatException($"{source}: merge {rank} '{l} {r}' produces '{l + r}', which is not in the vocabulary");
            merges.TryAdd((li, ri), (rank, merged)); // a repeated merge keeps its first (best) rank
        }
        allBytes = true;
        for (var b = 0; b < 256; b++)
            if (vocab.TryGetValue(ByteToken((byte)b), out var id)) byteIds[b] = id;
            else { byteIds[b] = -1; allBytes = false; }
    }

    /// <summary>Whether every &lt;0x00&gt;..&lt;0xFF&gt; token is in the vocabulary (so no text is ever unknown).</summary>
    public bool HasAllByteTokens => allBytes;

    /// <summary>The vocabulary token standing for a byte: &lt;0x0A&gt; for a newline.</summary>
    public static string ByteToken(byte b) => $"<0x{b:X2}>";

    /// <summary>
    /// Tokens of one pre-token. A character that is neither in the vocabulary nor expressible in byte tokens, with no
    /// unknown token configured, yields nothing, as in the reference implementation (and is counted in
    /// <see cref="UnencodableCharacters"/>).
    /// </summary>
    public List<WordToken> Encode(string word)
    {
        var result = new List<WordToken>();
        if (word.Length == 0) return result;
        if (ignoreMerges && vocab.TryGetValue(word, out var whole))
        {
            result.Add(new WordToken(whole, 0, word.Length));
            return result;
        }

        // Initial symbols: one per character (or per byte, or fused unknowns).
        var ids = new List<int>();
        var starts = new List<int>();
        var ends = new List<int>();
        (int Start, int End)? pendingUnk = null;
        void FlushUnk()
        {
            if (pendingUnk is not { } p) return;
            ids.Add(unkId!.Value); starts.Add(p.Start); ends.Add(p.End);
            pendingUnk = null;
        }
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < word.Length;)
        {
            // A lone surrogate reads as U+FFFD (its bytes EF BF BD), as a UTF-8 encoder writes it.
            Rune.DecodeFromUtf16(word.AsSpan(i), out var rune, out var length);
            var end = i + length;
            if (vocab.TryGetValue(word[i..end], out var id))
            {
                FlushUnk();
                ids.Add(id); starts.Add(i); ends.Add(end);
            }
            else if (byteFallback && ByteIds(rune, utf8) is { } bytes)
            {
                FlushUnk();
                foreach (var b in bytes) { ids.Add(b); starts.Add(i); ends.Add(end); }
            }
            else if (unkId is not null)
            {
                if (pendingUnk is { } p && fuseUnk) pendingUnk = (p.Start, end);
                else { FlushUnk(); pendingUnk = (i, end); }
            }
            else UnencodableCharacters.Record(word[i..end]);   // dropped, as the reference does, but counted
            i = end;
        }
        FlushUnk();

        // Merges, lowest rank first and leftmost among equal ranks, over a linked list of symbols.
        var n = ids.Count;
        var next = new int[n];
        var prev = new int[n];
        var alive = new bool[n];
        for (var i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; prev[i] = i - 1; alive[i] = true; }
        var queue = new PriorityQueue<int, (int Rank, int Pos)>();
        void Consider(int pos)
        {
            if (pos >= 0 && next[pos] >= 0 && merges.TryGetValue((ids[pos], ids[next[pos]]), out var m)) queue.Enqueue(pos, (m.Rank, pos));
        }
        for (var i = 0; i < n - 1; i++) Consider(i);
        while (queue.TryDequeue(out var pos, out var priority))
        {
            var right = next[pos];
            if (!alive[pos] || right < 0 || !merges.TryGetValue((ids[pos], ids[right]), out var m) || m.Rank != priority.Rank) continue;
            ids[pos] = m.Merged;
            ends[pos] = ends[right];
            alive[right] = false;
            next[pos] = next[right];
            if (next[pos] >= 0) prev[next[pos]] = pos;
            Consider(prev[pos]);
            Consider(pos);
        }
        for (var i = 0; i < n && i >= 0; i = next[i]) result.Add(new WordToken(ids[i], starts[i], ends[i]));
        return result;
    }

    private int[]? ByteIds(Rune rune, Span<byte> buffer)
    {
        var count = rune.EncodeToUtf8(buffer);
        var ids = new int[count];
        for (var k = 0; k < count; k++)
            if ((ids[k] = byteIds[buffer[k]]) < 0) return null;
        return ids;
    }
}
