using System.Collections;
using System.Globalization;

namespace FineTune.Kit.Explain;

/// <summary>One token as the tokenizer saw it: its text and its character span [Start, End) in the source text.</summary>
public readonly record struct TokenSpan(string Text, int Start, int End);

/// <summary>
/// One unit an explanation attributes to: its display text, the token indices it covers and, when known, its character
/// span [Start, End) in the source text (-1 when the features were not built from a text).
/// </summary>
public sealed record Feature(string Text, IReadOnlyList<int> Tokens, int Start = -1, int End = -1);

/// <summary>
/// How a text is split into the features an explanation talks about: single tokens, whole words (sub-word tokens
/// grouped) or spans the user chose. Tokens that belong to no feature (special tokens, whitespace-only tokens,
/// text outside the chosen spans) are never masked.
/// </summary>
public sealed class FeatureSet : IReadOnlyList<Feature>
{
    private readonly Feature[] _features;
    private readonly int[] _featureOfToken;

    private FeatureSet(IEnumerable<Feature> features, int tokenCount, string? text)
    {
        _features = features.ToArray();
        TokenCount = tokenCount;
        Text = text;
        _featureOfToken = new int[tokenCount];
        Array.Fill(_featureOfToken, -1);
        for (int f = 0; f < _features.Length; f++)
            foreach (var t in _features[f].Tokens)
            {
                if (t < 0 || t >= tokenCount)
                    throw new ArgumentException($"Feature {f} ('{_features[f].Text}') names token {t}, but there are {tokenCount} tokens.");
                if (_featureOfToken[t] >= 0)
                    throw new ArgumentException($"Token {t} belongs to both feature {_featureOfToken[t]} and feature {f}.");
                _featureOfToken[t] = f;
            }
    }

    /// <summary>The source text, when the features were built from one.</summary>
    public string? Text { get; }

    /// <summary>How many tokens the input has (features cover some or all of them).</summary>
    public int TokenCount { get; }

    /// <inheritdoc/>
    public int Count => _features.Length;

    /// <inheritdoc/>
    public Feature this[int index] => _features[index];

    /// <summary>The display texts, in feature order.</summary>
    public IReadOnlyList<string> Names => _features.Select(f => f.Text).ToArray();

    /// <summary>The feature a token belongs to, or -1 when it is never masked.</summary>
    public int FeatureOfToken(int token) => _featureOfToken[token];

    /// <summary>Features that are just names (for value functions that are not about text, and for tests).</summary>
    public static FeatureSet Named(params string[] names) =>
        new(names.Select((n, i) => new Feature(n, [i])), names.Length, null);

    /// <summary>One feature per token, display text = token string.</summary>
    public static FeatureSet FromTokens(IReadOnlyList<string> tokens) =>
        new(tokens.Select((t, i) => new Feature(t, [i])), tokens.Count, null);

    /// <summary>One feature per token that covers some text; zero-width (special) tokens are never masked.</summary>
    public static FeatureSet FromTokens(string text, IReadOnlyList<TokenSpan> tokens)
    {
        CheckOffsets(text, tokens);
        var features = new List<Feature>();
        for (int i = 0; i < tokens.Count; i++)
            if (tokens[i].End > tokens[i].Start)
                features.Add(new Feature(text[tokens[i].Start..tokens[i].End], [i], tokens[i].Start, tokens[i].End));
        return new FeatureSet(features, tokens.Count, text);
    }

    /// <summary>
    /// One feature per word: sub-word tokens are grouped by the word their characters fall in. A word is a run of
    /// letters, digits and marks (with inner apostrophes), or a run of other visible characters (punctuation).
    /// A token that straddles two words joins them into one feature, so every feature is a set of whole tokens.
    /// </summary>
    public static FeatureSet FromWords(string text, IReadOnlyList<TokenSpan> tokens) =>
        FromCharacterSpans(text, tokens, WordSpans(text), mergeStraddled: true);

    /// <summary>
    /// One feature per user span [Start, End) (phrases, sentences, fields). Tokens outside every span are never
    /// masked. A token that overlaps two spans is an error: the spans must follow token boundaries.
    /// </summary>
    public static FeatureSet FromSpans(string text, IReadOnlyList<TokenSpan> tokens, IReadOnlyList<(int Start, int End)> spans)
    {
        var sorted = spans.OrderBy(s => s.Start).ToArray();
        for (int i = 0; i < sorted.Length; i++)
        {
            var (s, e) = sorted[i];
            if (s < 0 || e > text.Length || s >= e)
                throw new ArgumentException($"Span [{s}, {e}) is empty or outside the text of length {text.Length}.");
            if (i > 0 && sorted[i - 1].End > s)
                throw new ArgumentException($"Spans [{sorted[i - 1].Start}, {sorted[i - 1].End}) and [{s}, {e}) overlap.");
        }
        return FromCharacterSpans(text, tokens, sorted.ToList(), mergeStraddled: false);
    }

    /// <summary>Which tokens are present when the given features are: uncovered tokens are always present.</summary>
    public bool[] TokenMask(bool[] coalition)
    {
        if (coalition.Length != Count)
            throw new ArgumentException($"A coalition has {coalition.Length} entries but there are {Count} features.");
        var mask = new bool[TokenCount];
        for (int t = 0; t < TokenCount; t++) mask[t] = _featureOfToken[t] < 0 || coalition[_featureOfToken[t]];
        return mask;
    }

    /// <summary>
    /// Turns a value function over token masks (what a model can compute) into one over these features.
    /// </summary>
    public CoalitionValue OverTokens(CoalitionValue tokenValue) =>
        coalitions => tokenValue(coalitions.Select(TokenMask).ToArray());

    /// <inheritdoc/>
    public IEnumerator<Feature> GetEnumerator() => ((IEnumerable<Feature>)_features).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static void CheckOffsets(string text, IReadOnlyList<TokenSpan> tokens)
    {
        for (int i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            if (t.Start < 0 || t.End < t.Start || t.End > text.Length)
                throw new ArgumentException(
                    $"Token {i} ('{t.Text}') has offsets [{t.Start}, {t.End}) outside the text of length {text.Length}.");
        }
    }

    private static FeatureSet FromCharacterSpans(string text, IReadOnlyList<TokenSpan> tokens,
        List<(int Start, int End)> spans, bool mergeStraddled)
    {
        CheckOffsets(text, tokens);
        // union-find over spans: a token touching several spans ties them together (or is an error)
        var parent = Enumerable.Range(0, spans.Count).ToArray();
        int Find(int x) { while (parent[x] != x) x = parent[x] = parent[parent[x]]; return x; }
        var spansOfToken = new List<int>[tokens.Count];
        for (int i = 0; i < tokens.Count; i++)
        {
            spansOfToken[i] = [];
            var (s, e) = (tokens[i].Start, tokens[i].End);
            if (s == e) continue;
            for (int k = FirstSpanEndingAfter(spans, s); k < spans.Count && spans[k].Start < e; k++)
                spansOfToken[i].Add(k);
            if (spansOfToken[i].Count > 1)
            {
                if (!mergeStraddled)
                    throw new ArgumentException(
                        $"Token {i} ('{tokens[i].Text}', [{s}, {e})) overlaps more than one span; spans must follow token boundaries.");
                foreach (var k in spansOfToken[i].Skip(1)) parent[Find(k)] = Find(spansOfToken[i][0]);
            }
        }
        var tokensOfRoot = new SortedDictionary<int, List<int>>();
        for (int i = 0; i < tokens.Count; i++)
            if (spansOfToken[i].Count > 0)
            {
                var root = Find(spansOfToken[i][0]);
                if (!tokensOfRoot.TryGetValue(root, out var list)) tokensOfRoot[root] = list = [];
                list.Add(i);
            }
        if (!mergeStraddled)
            for (int k = 0; k < spans.Count; k++)
                if (!tokensOfRoot.ContainsKey(k))
                    throw new ArgumentException($"Span [{spans[k].Start}, {spans[k].End}) covers no token.");
        var features = new List<Feature>();
        foreach (var (root, toks) in tokensOfRoot)
        {
            int start = int.MaxValue, end = 0;
            for (int k = 0; k < spans.Count; k++)
                if (Find(k) == root) { start = Math.Min(start, spans[k].Start); end = Math.Max(end, spans[k].End); }
            features.Add(new Feature(text[start..end], toks, start, end));
        }
        return new FeatureSet(features.OrderBy(f => f.Start), tokens.Count, text);
    }

    private static int FirstSpanEndingAfter(List<(int Start, int End)> spans, int position)
    {
        int lo = 0, hi = spans.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (spans[mid].End <= position) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /// <summary>Word and punctuation runs of a text, in order.</summary>
    internal static List<(int Start, int End)> WordSpans(string text)
    {
        var spans = new List<(int, int)>();
        int i = 0;
        while (i < text.Length)
        {
            if (char.IsWhiteSpace(text[i])) { i++; continue; }
            int start = i;
            if (IsWordChar(text[i]))
            {
                while (i < text.Length && (IsWordChar(text[i])
                       || (IsApostrophe(text[i]) && i + 1 < text.Length && IsWordChar(text[i + 1]))))
                    i++;
            }
            else
            {
                while (i < text.Length && !char.IsWhiteSpace(text[i]) && !IsWordChar(text[i])) i++;
            }
            spans.Add((start, i));
        }
        return spans;
    }

    private static bool IsApostrophe(char c) => c is '\'' or '\u2019';

    private static bool IsWordChar(char c) => char.GetUnicodeCategory(c) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.DecimalDigitNumber
            or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber or UnicodeCategory.NonSpacingMark
            or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.ConnectorPunctuation => true,
        _ => char.IsSurrogate(c),
    };
}
