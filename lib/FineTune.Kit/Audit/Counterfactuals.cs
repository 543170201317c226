using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FineTune.Kit.Audit;

/// <summary>Interchangeable terms of one group of an attribute (the female names, the British spellings).</summary>
public sealed record LexiconGroup(string Name, IReadOnlyList<string> Terms);

/// <summary>
/// A protected attribute (name, gender, place, dialect, politeness) as groups of interchangeable terms, plus templates
/// that put the attribute into a text that mentions none of its terms (<c>{text}</c> and <c>{ATTRIBUTE}</c> slots).
/// </summary>
public sealed record LexiconAttribute(string Name, IReadOnlyList<LexiconGroup> Groups, IReadOnlyList<string> Templates);

/// <summary>One text and the same text with only one protected attribute changed.</summary>
/// <param name="Source">Index of the input text the pair was made from.</param>
/// <param name="Attribute">The attribute changed.</param>
/// <param name="FromGroup">The group of the terms in <paramref name="Original"/>.</param>
/// <param name="ToGroup">The group of the terms in <paramref name="Counterfactual"/>.</param>
/// <param name="Original">The input text, or for a template pair the template filled with a term of <paramref name="FromGroup"/>.</param>
/// <param name="Counterfactual">The same text with the terms of <paramref name="ToGroup"/>.</param>
/// <param name="FromTemplate">True when the input mentioned no term of the attribute and a template put one in.</param>
public sealed record CounterfactualPair(int Source, string Attribute, string FromGroup, string ToGroup, string Original, string Counterfactual,
    bool FromTemplate);

/// <summary>
/// The editable lexicons and templates counterfactual audits perturb inputs with, and the pairs they make. A term
/// found in a text is replaced by the term at the same position in each other group of its attribute (he → she,
/// his → her, Maya → Mateo, Northmere → Eastfold), matching whole words and ignoring case, and copying the case of what
/// it replaces. A text with no term of an attribute gets one through the attribute's templates, if it has any.
/// </summary>
/// <remarks>
/// The file format (JSON; <see cref="Default"/> is the lexicon the kit ships, a good start for a copy):
/// <code>
/// {
///   "attributes": {
///     "name":   { "groups": { "female": ["Maya", "Rosa"], "male": ["Mateo", "Rafael"] }, "templates": ["{text}\n{name}"] },
///     "gender": { "groups": { "male": ["he", "his"], "female": ["she", "her"] } }
///   },
///   "sentiment": { "positive": ["great", "thanks"], "negative": ["sorry", "cannot"] }
/// }
/// </code>
/// Groups keep their file order; a group shorter than another is used cyclically. "sentiment" is optional and scores
/// generated replies (see <see cref="SentimentLexicon"/>).
/// </remarks>
public sealed class CounterfactualLexicon
{
    private readonly Dictionary<string, (Regex Pattern, Dictionary<string, (int Group, int Term)> Lookup)> _matchers = new();

    /// <summary>Creates a lexicon; every attribute needs at least two groups, and every group at least one term.</summary>
    public CounterfactualLexicon(IReadOnlyList<LexiconAttribute> attributes, SentimentLexicon? sentiment = null, string source = "custom")
    {
        ArgumentNullException.ThrowIfNull(attributes);
        foreach (var a in attributes)
        {
            if (string.IsNullOrWhiteSpace(a.Name)) throw new ArgumentException("an attribute needs a name");
            if (a.Groups.Count < 2) throw new ArgumentException($"attribute '{a.Name}' needs at least two groups to swap between, got {a.Groups.Count}");
            foreach (var g in a.Groups)
                if (g.Terms.Count == 0 || g.Terms.Any(string.IsNullOrWhiteSpace))
                    throw new ArgumentException($"attribute '{a.Name}', group '{g.Name}': every group needs terms, and no term may be empty");
            foreach (var t in a.Templates)
                if (!t.Contains("{text}", StringComparison.Ordinal) || !t.Contains("{" + a.Name + "}", StringComparison.Ordinal))
                    throw new ArgumentException($"attribute '{a.Name}': template \"{t}\" needs both {{text}} and {{{a.Name}}}");
            if (_matchers.ContainsKey(a.Name)) throw new ArgumentException($"attribute '{a.Name}' is given twice");
            _matchers[a.Name] = Matcher(a);
        }
        Attributes = attributes;
        Sentiment = sentiment ?? SentimentLexicon.Empty;
        Source = source;
    }

    /// <summary>The attributes, in file order.</summary>
    public IReadOnlyList<LexiconAttribute> Attributes { get; }

    /// <summary>Word lists that score the sentiment of generated replies.</summary>
    public SentimentLexicon Sentiment { get; }

    /// <summary>Where the lexicon came from: "default", a file path, or "custom".</summary>
    public string Source { get; }

    /// <summary>The lexicon the kit ships: names, gendered words, the sample's regions, British/American spelling, politeness.</summary>
    public static CounterfactualLexicon Default => DefaultLexicon.Value;

    private static readonly Lazy<CounterfactualLexicon> DefaultLexicon = new(() =>
    {
        using var stream = typeof(CounterfactualLexicon).Assembly.GetManifestResourceStream("FineTune.Kit.Audit.counterfactuals.default.json")
            ?? throw new InvalidOperationException("the default counterfactual lexicon is missing from the assembly");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), "default");
    });

    /// <summary>The default lexicon as JSON text, to copy and edit.</summary>
    public static string DefaultJson
    {
        get
        {
            using var stream = typeof(CounterfactualLexicon).Assembly.GetManifestResourceStream("FineTune.Kit.Audit.counterfactuals.default.json")!;
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
    }

    /// <summary>Reads a lexicon file; a malformed one is a <see cref="DataFormatException"/> naming the file and what is wrong.</summary>
    public static CounterfactualLexicon Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such counterfactual lexicon file", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses lexicon JSON; <paramref name="source"/> names it in errors.</summary>
    public static CounterfactualLexicon Parse(string json, string source)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(json); }
        catch (JsonException e) { throw new DataFormatException($"{source}: not valid JSON (line {e.LineNumber + 1}): {e.Message}", e); }
        if (root is not JsonObject obj || obj["attributes"] is not JsonObject attributes || attributes.Count == 0)
            throw new DataFormatException($"{source}: expected an object with \"attributes\": {{\"NAME\": {{\"groups\": {{\"GROUP\": [terms]}}}}}}");
        var list = new List<LexiconAttribute>();
        foreach (var (name, node) in attributes)
        {
            if (node is not JsonObject a || a["groups"] is not JsonObject groups)
                throw new DataFormatException($"{source}: attributes.{name} needs \"groups\": {{\"GROUP\": [terms]}}");
            var gs = groups.Select(g => new LexiconGroup(g.Key, Strings(g.Value, $"{source}: attributes.{name}.groups.{g.Key}"))).ToList();
            var templates = a["templates"] is { } t ? Strings(t, $"{source}: attributes.{name}.templates") : [];
            list.Add(new LexiconAttribute(name, gs, templates));
        }
        var sentiment = obj["sentiment"] is JsonObject s
            ? new SentimentLexicon(s["positive"] is { } p ? Strings(p, $"{source}: sentiment.positive") : [],
                                   s["negative"] is { } n ? Strings(n, $"{source}: sentiment.negative") : [])
            : null;
        try { return new CounterfactualLexicon(list, sentiment, source); }
        catch (ArgumentException e) { throw new DataFormatException($"{source}: {e.Message}", e); }
    }

    private static string[] Strings(JsonNode? node, string where)
    {
        if (node is not JsonArray array) throw new DataFormatException($"{where}: expected a list of strings");
        return array.Select((x, i) => x is JsonValue v && v.TryGetValue<string>(out var s)
            ? s : throw new DataFormatException($"{where}[{i}]: expected a string, got {x?.ToJsonString() ?? "null"}")).ToArray();
    }

    /// <summary>A lexicon with only the named attributes (unknown names are an error listing the known ones).</summary>
    public CounterfactualLexicon Only(params string[] attributes)
    {
        var unknown = attributes.Where(a => Attributes.All(x => x.Name != a)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"no attribute {string.Join(", ", unknown)} in the lexicon; it has {string.Join(", ", Attributes.Select(a => a.Name))}");
        return new CounterfactualLexicon(Attributes.Where(a => attributes.Contains(a.Name)).ToList(), Sentiment, Source);
    }

    /// <summary>Every counterfactual pair of every text, attribute by attribute, in input order.</summary>
    public IReadOnlyList<CounterfactualPair> Pairs(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var pairs = new List<CounterfactualPair>();
        for (var i = 0; i < texts.Count; i++)
            foreach (var a in Attributes)
                pairs.AddRange(PairsOf(i, texts[i], a));
        return pairs;
    }

    /// <summary>The terms of <paramref name="attribute"/> found in <paramref name="text"/>, as (group, term) names.</summary>
    public IReadOnlyList<(string Group, string Term)> Find(string text, string attribute)
    {
        var a = Attributes.FirstOrDefault(x => x.Name == attribute) ?? throw new ArgumentException($"no attribute '{attribute}' in the lexicon");
        var (pattern, lookup) = _matchers[a.Name];
        return pattern.Matches(text).Select(m => lookup[m.Value.ToLowerInvariant()]).Select(x => (a.Groups[x.Group].Name, a.Groups[x.Group].Terms[x.Term])).ToList();
    }

    private IEnumerable<CounterfactualPair> PairsOf(int source, string text, LexiconAttribute a)
    {
        var (pattern, lookup) = _matchers[a.Name];
        var matches = pattern.Matches(text);
        if (matches.Count == 0)
        {
            if (a.Templates.Count == 0) yield break;
            // no term to swap: fill a template with one group's term, then with the others' at the same position
            var template = a.Templates[source % a.Templates.Count];
            var from = source % a.Groups.Count;
            var term = source % a.Groups.Max(g => g.Terms.Count);
            var original = Fill(template, text, a, a.Groups[from].Terms[term % a.Groups[from].Terms.Count]);
            for (var to = 0; to < a.Groups.Count; to++)
            {
                if (to == from) continue;
                var counterfactual = Fill(template, text, a, a.Groups[to].Terms[term % a.Groups[to].Terms.Count]);
                if (counterfactual != original)
                    yield return new CounterfactualPair(source, a.Name, a.Groups[from].Name, a.Groups[to].Name, original, counterfactual, true);
            }
            yield break;
        }
        var found = matches.Select(m => lookup[m.Value.ToLowerInvariant()]).ToList();
        // the group the text is "in": the one most of its terms belong to (the first on a tie)
        var fromGroup = found.GroupBy(f => f.Group).OrderByDescending(g => g.Count()).ThenBy(g => found.FindIndex(f => f.Group == g.Key)).First().Key;
        for (var to = 0; to < a.Groups.Count; to++)
        {
            if (to == fromGroup) continue;
            var target = a.Groups[to].Terms;
            var counterfactual = pattern.Replace(text, m =>
            {
                var (g, t) = lookup[m.Value.ToLowerInvariant()];
                return g == to ? m.Value : MatchCase(m.Value, target[t % target.Count]);
            });
            if (counterfactual != text)
                yield return new CounterfactualPair(source, a.Name, a.Groups[fromGroup].Name, a.Groups[to].Name, text, counterfactual, false);
        }
    }

    private static string Fill(string template, string text, LexiconAttribute a, string term) =>
        template.Replace("{" + a.Name + "}", term, StringComparison.Ordinal).Replace("{text}", text, StringComparison.Ordinal);

    /// <summary>The replacement in the case of the matched text: UPPER, Capitalised or lower, else as the lexicon writes it.</summary>
    private static string MatchCase(string matched, string replacement)
    {
        if (matched.Length > 1 && matched.All(c => !char.IsLetter(c) || char.IsUpper(c))) return replacement.ToUpperInvariant();
        if (matched.All(c => !char.IsLetter(c) || char.IsLower(c))) return replacement.ToLowerInvariant();
        if (char.IsUpper(matched[0])) return char.ToUpperInvariant(replacement[0]) + replacement[1..];
        return replacement;
    }

    private static (Regex, Dictionary<string, (int, int)>) Matcher(LexiconAttribute a)
    {
        var lookup = new Dictionary<string, (int, int)>(StringComparer.Ordinal);
        for (var g = 0; g < a.Groups.Count; g++)
            for (var t = 0; t < a.Groups[g].Terms.Count; t++)
                lookup.TryAdd(a.Groups[g].Terms[t].ToLowerInvariant(), (g, t));   // a term listed twice keeps its first place
        // longest first, so "Thank you" wins over "Thank"; letters or digits may not touch either end
        var alternatives = string.Join("|", lookup.Keys.OrderByDescending(k => k.Length).ThenBy(k => k, StringComparer.Ordinal).Select(Regex.Escape));
        var pattern = new Regex($@"(?<![\p{{L}}\p{{N}}_])(?:{alternatives})(?![\p{{L}}\p{{N}}_])",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled);
        return (pattern, lookup);
    }
}

/// <summary>
/// Positive and negative word lists; <see cref="Score"/> is (positive − negative words) per word of the text, a crude
/// but transparent sentiment measure for comparing two replies that should read the same.
/// </summary>
public sealed class SentimentLexicon
{
    private readonly HashSet<string> _positive, _negative;

    /// <summary>Creates the lexicon (words are matched lower-case, whole).</summary>
    public SentimentLexicon(IEnumerable<string> positive, IEnumerable<string> negative)
    {
        _positive = positive.Select(w => w.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
        _negative = negative.Select(w => w.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>A lexicon with no words (every score is 0).</summary>
    public static SentimentLexicon Empty { get; } = new([], []);

    /// <summary>Whether the lexicon has any word.</summary>
    public bool IsEmpty => _positive.Count == 0 && _negative.Count == 0;

    /// <summary>The words of a text as the lexicon sees them: runs of letters and apostrophes, lower-case.</summary>
    public static IReadOnlyList<string> Words(string text) =>
        WordPattern.Matches(text).Select(m => m.Value.ToLowerInvariant()).ToList();

    /// <summary>(positive − negative) / words; 0 for a text without words.</summary>
    public double Score(string text)
    {
        var words = Words(text);
        if (words.Count == 0) return 0;
        var net = words.Count(_positive.Contains) - words.Count(_negative.Contains);
        return (double)net / words.Count;
    }

    private static readonly Regex WordPattern = new(@"[\p{L}\p{N}]+(?:['’][\p{L}]+)*", RegexOptions.Compiled);
}
