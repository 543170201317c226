namespace FineTune.Kit.Data.Curation;

/// <summary>Writing systems told apart by <see cref="LanguageFilterRule"/>.</summary>
public enum Script
{
    /// <summary>Latin letters (including accented and extended Latin).</summary>
    Latin,
    /// <summary>Cyrillic.</summary>
    Cyrillic,
    /// <summary>Greek.</summary>
    Greek,
    /// <summary>Arabic.</summary>
    Arabic,
    /// <summary>Hebrew.</summary>
    Hebrew,
    /// <summary>Devanagari.</summary>
    Devanagari,
    /// <summary>Han ideographs, Hiragana, Katakana and Hangul together.</summary>
    Cjk,
    /// <summary>Any other letter.</summary>
    Other,
}

/// <summary>
/// A cheap language check in two parts. Script: the share of letters written in the expected script must reach
/// <c>minScriptShare</c> (reliable, even for short texts). Language (optional): among a few European languages,
/// the one whose common function words ("the", "und", "les", ...) make up the largest share of the words, judged only
/// for texts of at least <c>minWords</c> words and only when that share reaches 10%; other rows are kept unjudged.
/// This is a heuristic: it cannot tell close languages apart reliably, knows only en, de, fr, es, it, nl and pt, and
/// is wrong on short or mixed texts. Use a trained language identifier when it matters.
/// </summary>
public sealed class LanguageFilterRule(Script script = Script.Latin, double minScriptShare = 0.8,
    IReadOnlyList<string>? languages = null, int minWords = 5, IReadOnlyList<string>? columns = null) : RowFilterRule
{
    private static readonly Dictionary<string, HashSet<string>> StopWords = new()
    {
        ["en"] = ["the", "and", "is", "are", "was", "to", "of", "in", "it", "that", "for", "on", "with", "my", "you", "i", "this", "not", "have", "be", "a", "an", "your", "can", "please"],
        ["de"] = ["der", "die", "das", "und", "ist", "nicht", "ich", "sie", "es", "mit", "ein", "eine", "zu", "den", "von", "auf", "mein", "bitte", "wir", "auch", "sich", "dem", "im"],
        ["fr"] = ["le", "la", "les", "et", "est", "je", "ne", "pas", "un", "une", "des", "du", "pour", "que", "qui", "dans", "mon", "vous", "sur", "avec", "ce", "il", "au"],
        ["es"] = ["el", "la", "los", "las", "y", "es", "no", "que", "un", "una", "de", "en", "por", "para", "mi", "con", "se", "lo", "del", "al", "su", "pero", "está"],
        ["it"] = ["il", "la", "le", "e", "è", "non", "che", "un", "una", "di", "per", "con", "mio", "mia", "sono", "del", "della", "gli", "ma", "si", "lo", "ho", "questo"],
        ["nl"] = ["de", "het", "een", "en", "is", "niet", "ik", "van", "dat", "op", "te", "met", "voor", "mijn", "zijn", "ook", "maar", "wij", "er", "je", "aan"],
        ["pt"] = ["o", "a", "os", "as", "e", "é", "não", "que", "um", "uma", "de", "em", "para", "com", "meu", "minha", "do", "da", "se", "por", "mas", "no", "na"],
    };

    /// <summary>The expected script.</summary>
    public Script Script { get; } = script;

    /// <summary>Smallest share of letters in the expected script.</summary>
    public double MinScriptShare { get; } = minScriptShare;

    /// <summary>Allowed language codes (null: no language check).</summary>
    public IReadOnlyList<string>? Languages { get; } = languages?.Select(l => StopWords.ContainsKey(l) ? l
        : throw new ArgumentException($"unknown language '{l}'; known: {string.Join(", ", StopWords.Keys)}")).ToList();

    /// <inheritdoc/>
    public override string Name => "filter_language";

    /// <inheritdoc/>
    public override string? RemovalReason(Example row)
    {
        var text = row.Content(columns);
        var share = ScriptShare(text, Script);
        if (share is { } s && s < MinScriptShare) return $"only {s:P0} of letters are {Script} (< {MinScriptShare:P0})";
        if (Languages is null) return null;
        var guess = GuessLanguage(text, minWords);
        return guess is not null && !Languages.Contains(guess) ? $"looks like '{guess}', expected {string.Join("/", Languages)}" : null;
    }

    /// <summary>The share of letters in a script, or null when the text has no letters.</summary>
    public static double? ScriptShare(string text, Script script)
    {
        int letters = 0, inScript = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (!System.Text.Rune.IsLetter(rune)) continue;
            letters++;
            if (ScriptOf(rune.Value) == script) inScript++;
        }
        return letters == 0 ? null : (double)inScript / letters;
    }

    /// <summary>The script of a letter's code point.</summary>
    public static Script ScriptOf(int cp) => cp switch
    {
        <= 0x024F or (>= 0x1E00 and <= 0x1EFF) or (>= 0x2C60 and <= 0x2C7F) or (>= 0xA720 and <= 0xA7FF) or (>= 0xFF21 and <= 0xFF5A) => Script.Latin,
        >= 0x0370 and <= 0x03FF or (>= 0x1F00 and <= 0x1FFF) => Script.Greek,
        >= 0x0400 and <= 0x052F => Script.Cyrillic,
        >= 0x0590 and <= 0x05FF => Script.Hebrew,
        >= 0x0600 and <= 0x06FF or (>= 0x0750 and <= 0x077F) => Script.Arabic,
        >= 0x0900 and <= 0x097F => Script.Devanagari,
        (>= 0x3040 and <= 0x30FF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x4E00 and <= 0x9FFF) or (>= 0xAC00 and <= 0xD7AF) or (>= 0x20000 and <= 0x2FFFF) => Script.Cjk,
        _ => Script.Other,
    };

    /// <summary>The stop-word guess (see the class summary), or null when the text is too short or unclear.</summary>
    public static string? GuessLanguage(string text, int minWords = 5)
    {
        var words = text.ToLowerInvariant().Split((char[])[' ', '\n', '\t', ',', '.', '!', '?', ';', ':', '"', '(', ')'], StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < minWords) return null;
        var best = StopWords.Select(kv => (kv.Key, Share: (double)words.Count(kv.Value.Contains) / words.Length))
                            .OrderByDescending(x => x.Share).ToList();
        if (best[0].Share < 0.1 || best[0].Share == best[1].Share) return null;
        return best[0].Key;
    }
}
