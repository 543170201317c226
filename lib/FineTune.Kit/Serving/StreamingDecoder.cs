using FineTune.Kit.Text;

namespace FineTune.Kit.Serving;

/// <summary>
/// Turns generated tokens, one at a time, into text that is safe to send at once: everything decoded so far except a
/// trailing piece that may still become a stop sequence or is an incomplete UTF-8 character. The pieces it releases
/// join to the text the whole answer decodes to, cut before the first stop sequence.
/// </summary>
/// <example>
/// <code>
/// var decoder = new StreamingDecoder(tokenizer, ["\n\n"]);
/// foreach (var id in tokens) { Send(decoder.Push(id)); if (decoder.Stopped) break; }
/// if (!decoder.Stopped) Send(decoder.Flush());
/// </code>
/// </example>
public sealed class StreamingDecoder
{
    private readonly TextTokenizer tokenizer;
    private readonly string[] stops;
    private readonly List<int> ids = [];
    private int emitted;

    /// <summary>A decoder for one answer; empty stop sequences are ignored.</summary>
    public StreamingDecoder(TextTokenizer tokenizer, IEnumerable<string> stopSequences)
    {
        this.tokenizer = tokenizer;
        stops = stopSequences.Where(s => s.Length > 0).ToArray();
    }

    /// <summary>The tokens pushed so far.</summary>
    public IReadOnlyList<int> Ids => ids;

    /// <summary>True once a stop sequence appeared: the answer is complete and later tokens are not wanted.</summary>
    public bool Stopped { get; private set; }

    /// <summary>The text released so far.</summary>
    public string Text { get; private set; } = "";

    /// <summary>Adds one generated token and returns the text it makes safe to send (often empty).</summary>
    /// <exception cref="InvalidOperationException">A stop sequence already ended the answer.</exception>
    public string Push(long id)
    {
        if (Stopped) throw new InvalidOperationException("the answer already ended at a stop sequence");
        ids.Add((int)id);
        var cleanUp = tokenizer.Config.CleanUpTokenizationSpaces;
        var raw = tokenizer.Decode(ids, skipSpecialTokens: true, cleanUpTokenizationSpaces: false);
        var text = cleanUp ? TextTokenizer.CleanUpTokenizationSpaces(raw) : raw;
        int stopAt = -1;
        foreach (var s in stops)
        {
            // a stop sequence can start inside the held-back tail, never before it
            int at = text.IndexOf(s, Math.Max(0, emitted - s.Length + 1), StringComparison.Ordinal);
            if (at >= 0 && (stopAt < 0 || at < stopAt)) stopAt = at;
        }
        if (stopAt >= 0)
        {
            Stopped = true;
            return Release(text, Math.Max(stopAt, emitted));
        }
        int end = cleanUp ? SettledLength(raw, text) : text.Length;
        while (end > emitted && text[end - 1] == '\uFFFD') end--;
        int hold = 0;
        foreach (var s in stops)
            for (int k = Math.Min(s.Length - 1, end - emitted); k > hold; k--)
                if (string.CompareOrdinal(text, end - k, s, 0, k) == 0) { hold = k; break; }
        return Release(text, end - hold);
    }

    /// <summary>Generation ended without a stop sequence: whatever was held back is text after all.</summary>
    public string Flush()
    {
        if (Stopped) return "";
        return Release(tokenizer.Decode(ids, skipSpecialTokens: true), int.MaxValue);
    }

    // With clean_up_tokenization_spaces, how much of the cleaned text no later token can change. Its patterns start
    // with a space and span at most four characters (" n't"), and " ' " can still lose its last space to the " ." rule
    // that runs first: so the raw text is settled up to the first space of its last four characters, moved back past
    // any space within three characters before it (a pattern could straddle the cut).
    private static int SettledLength(string raw, string cleaned)
    {
        int cut = raw.IndexOf(' ', Math.Max(0, raw.Length - 4));
        if (cut < 0) return cleaned.Length;
        for (int earlier; (earlier = raw.IndexOf(' ', Math.Max(0, cut - 3), cut - Math.Max(0, cut - 3))) >= 0;) cut = earlier;
        var settled = TextTokenizer.CleanUpTokenizationSpaces(raw[..cut]);
        int common = 0;
        while (common < settled.Length && common < cleaned.Length && settled[common] == cleaned[common]) common++;
        return common;
    }

    private string Release(string text, int upTo)
    {
        upTo = Math.Min(upTo, text.Length);
        if (upTo <= emitted) return "";
        var piece = text[emitted..upTo];
        emitted = upTo;
        Text += piece;
        return piece;
    }
}
