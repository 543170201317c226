using System.Text;

namespace FineTune.Kit.Text;

/// <summary>
/// Trains a byte-level BPE vocabulary (GPT-2 style) on a corpus:
/// <c>new BpeTrainer().VocabSize(4096).SpecialTokens("&lt;|endoftext|&gt;").Train(lines)</c>.
/// </summary>
/// <remarks>
/// Words are GPT-2 pre-tokens counted once each with their frequency; pair counts are kept for the whole corpus and
/// updated only for the words a merge touches, so training costs about the size of the unique-word list per merge.
/// Ties between equally frequent pairs go to the pair whose (left, right) token strings sort first (ordinal), so a
/// corpus always gives the same merges.
/// </remarks>
public sealed class BpeTrainer
{
    private int vocabSize = 4096;
    private int minFrequency = 2;
    private string[] specialTokens = [];

    /// <summary>Target vocabulary size, special tokens and the 256 byte symbols included.</summary>
    public BpeTrainer VocabSize(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        vocabSize = size;
        return this;
    }

    /// <summary>Stop merging when the best pair occurs fewer times than this (default 2).</summary>
    public BpeTrainer MinFrequency(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        minFrequency = count;
        return this;
    }

    /// <summary>Special tokens, given ids 0, 1, ... in this order and never split or merged.</summary>
    public BpeTrainer SpecialTokens(params IEnumerable<string> tokens)
    {
        specialTokens = tokens.Distinct(StringComparer.Ordinal).ToArray();
        if (specialTokens.Any(string.IsNullOrEmpty)) throw new ArgumentException("special tokens must be non-empty");
        return this;
    }

    /// <summary>Trains on a UTF-8 text file, read in blocks so large corpora need not fit in memory as one string.</summary>
    public BpeModel TrainOnFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"corpus file '{path}' does not exist", path);
        return Train(ReadBlocks(path));
    }

    /// <summary>Trains on texts; special tokens written in them are cut out before counting.</summary>
    public BpeModel Train(IEnumerable<string> corpus)
    {
        if (vocabSize < specialTokens.Length + 256)
            throw new ArgumentException($"vocabulary size {vocabSize} is smaller than the {specialTokens.Length} special tokens plus 256 byte symbols");

        // Token table: specials, then the byte alphabet sorted by character, then one token per merge.
        var tokens = new List<string>(specialTokens);
        tokens.AddRange(ByteLevel.Alphabet.OrderBy(c => c).Select(c => c.ToString()));
        var idOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < tokens.Count; i++) idOf[tokens[i]] = i;

        var (words, counts) = CountWords(corpus, idOf);
        var pairCounts = new Dictionary<long, long>();
        var wordsWithPair = new Dictionary<long, HashSet<int>>();
        for (var w = 0; w < words.Count; w++) AddPairs(words[w], counts[w], w, pairCounts, wordsWithPair);

        var queue = new PriorityQueue<long, (long Count, string Left, string Right)>(new PairOrder());
        foreach (var (pair, count) in pairCounts) queue.Enqueue(pair, Priority(pair, count, tokens));

        var merges = new List<(string, string)>();
        while (tokens.Count < vocabSize && queue.TryDequeue(out var best, out var stored))
        {
            var actual = pairCounts.GetValueOrDefault(best);
            // Stored counts are upper bounds (they only fall as merges happen elsewhere); re-queue stale ones.
            if (actual != stored.Count)
            {
                if (actual > 0) queue.Enqueue(best, Priority(best, actual, tokens));
                continue;
            }
            if (actual < minFrequency) break;

            var (left, right) = Unpack(best);
            var merged = tokens[left] + tokens[right];
            // Two merge paths can spell the same string ("ab"+"c" and "a"+"bc"): the merge is new, the token is not.
            if (!idOf.TryGetValue(merged, out var newId))
            {
                newId = tokens.Count;
                tokens.Add(merged);
                idOf[merged] = newId;
            }
            merges.Add((tokens[left], tokens[right]));

            var touched = new HashSet<long>();
            foreach (var w in wordsWithPair[best].Order())
            {
                var word = words[w];
                if (!Contains(word, left, right)) continue;
                RemovePairs(word, counts[w], pairCounts, touched);
                words[w] = word = MergeIn(word, left, right, newId);
                AddPairs(word, counts[w], w, pairCounts, wordsWithPair, touched);
            }
            pairCounts.Remove(best);
            wordsWithPair.Remove(best);
            // Pairs with the new token are new; their counts are exact now. Older pairs only went down (lazy above).
            foreach (var p in touched.Order())
            {
                var (l, r) = Unpack(p);
                if ((l == newId || r == newId) && pairCounts.TryGetValue(p, out var c) && c > 0)
                    queue.Enqueue(p, Priority(p, c, tokens));
            }
        }
        return new BpeModel(tokens, merges, specialTokens);
    }

    private (List<int[]> Words, List<long> Counts) CountWords(IEnumerable<string> corpus, Dictionary<string, int> idOf)
    {
        var wordCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var text in corpus)
            foreach (var (piece, isSpecial) in SpecialTokenSplitter.Split(text, specialTokens))
            {
                if (isSpecial) continue;
                foreach (var word in ByteLevel.PreTokenize(piece))
                    wordCounts[word] = wordCounts.GetValueOrDefault(word) + 1;
            }
        var words = new List<int[]>(wordCounts.Count);
        var counts = new List<long>(wordCounts.Count);
        // Sorted so that word indices, and with them everything downstream, do not depend on corpus order quirks.
        foreach (var (word, count) in wordCounts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var symbols = ByteLevel.Encode(word);
            var ids = new int[symbols.Length];
            for (var i = 0; i < symbols.Length; i++) ids[i] = idOf[symbols[i].ToString()];
            words.Add(ids);
            counts.Add(count);
        }
        return (words, counts);
    }

    private static void AddPairs(int[] word, long count, int w, Dictionary<long, long> pairCounts,
                                 Dictionary<long, HashSet<int>> wordsWithPair, HashSet<long>? touched = null)
    {
        for (var i = 0; i + 1 < word.Length; i++)
        {
            var p = Pack(word[i], word[i + 1]);
            pairCounts[p] = pairCounts.GetValueOrDefault(p) + count;
            if (!wordsWithPair.TryGetValue(p, out var set)) wordsWithPair[p] = set = [];
            set.Add(w);
            touched?.Add(p);
        }
    }

    private static void RemovePairs(int[] word, long count, Dictionary<long, long> pairCounts, HashSet<long> touched)
    {
        for (var i = 0; i + 1 < word.Length; i++)
        {
            var p = Pack(word[i], word[i + 1]);
            pairCounts[p] -= count;
            touched.Add(p);
        }
    }

    private static bool Contains(int[] word, int left, int right)
    {
        for (var i = 0; i + 1 < word.Length; i++)
            if (word[i] == left && word[i + 1] == right) return true;
        return false;
    }

    // Merges non-overlapping occurrences left to right, as the encoder does ("a a a" with "a a" -> "aa a").
    private static int[] MergeIn(int[] word, int left, int right, int newId)
    {
        var result = new List<int>(word.Length);
        for (var i = 0; i < word.Length; i++)
        {
            if (i + 1 < word.Length && word[i] == left && word[i + 1] == right) { result.Add(newId); i++; }
            else result.Add(word[i]);
        }
        return result.ToArray();
    }

    private static long Pack(int left, int right) => ((long)left << 32) | (uint)right;
    private static (int, int) Unpack(long pair) => ((int)(pair >> 32), (int)(pair & 0xFFFFFFFF));

    private static (long, string, string) Priority(long pair, long count, List<string> tokens)
    {
        var (l, r) = Unpack(pair);
        return (count, tokens[l], tokens[r]);
    }

    // Highest count first; ties to the ordinally smaller (left, right).
    private sealed class PairOrder : IComparer<(long Count, string Left, string Right)>
    {
        public int Compare((long Count, string Left, string Right) a, (long Count, string Left, string Right) b)
        {
            var c = b.Count.CompareTo(a.Count);
            if (c != 0) return c;
            c = string.CompareOrdinal(a.Left, b.Left);
            return c != 0 ? c : string.CompareOrdinal(a.Right, b.Right);
        }
    }

    // Reads the file in blocks of about 1 MB cut after a newline, keeping every character (\r\n included).
    private static IEnumerable<string> ReadBlocks(string path)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        var buffer = new char[1 << 20];
        var carry = "";
        int read;
        while ((read = reader.Read(buffer, 0, buffer.Length)) > 0)
        {
            var text = carry + new string(buffer, 0, read);
            var cut = text.LastIndexOf('\n');
            if (cut < 0) { carry = text; continue; }
            carry = text[(cut + 1)..];
            yield return text[..(cut + 1)];
        }
        if (carry.Length > 0) yield return carry;
    }
}
