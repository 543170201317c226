using System.Globalization;
using System.Text.RegularExpressions;

namespace FineTune.Kit.Evaluation.Generation;

/// <summary>
/// How relevant a reply is to a ticket, with the parts the score is made of.
/// </summary>
/// <param name="Score">The weighted mean of the parts, in [0, 1].</param>
/// <param name="Intent">Share of the reply's intent cues that belong to the ticket's intent (0 when the reply has none).</param>
/// <param name="Specifics">
/// The mean over the ticket's specifics (reference numbers, products, amounts) of 1 when the reply names it, ½ when it
/// leaves it out, 0 when it names another one of the same kind instead; a specific the reply names of a kind the ticket
/// has none of adds a 0. Null when neither names any.
/// </param>
/// <param name="NoBrushOff">1 when the reply contains none of the canned brush-offs, else 0.</param>
/// <param name="TicketIntent">The intent the reply was judged against (given, or read from the ticket; null if neither).</param>
/// <param name="ReplyIntent">The intent with the most cues in the reply (null when it has none).</param>
/// <param name="Named">Ticket specifics the reply names.</param>
/// <param name="Missing">Ticket specifics the reply leaves out.</param>
/// <param name="Wrong">Specifics the reply names that are not in the ticket (another order number, product or amount).</param>
/// <param name="BrushOff">The first canned brush-off found in the reply, or null.</param>
public sealed record RelevanceScore(double Score, double Intent, double? Specifics, double NoBrushOff, string? TicketIntent, string? ReplyIntent,
    IReadOnlyList<string> Named, IReadOnlyList<string> Missing, IReadOnlyList<string> Wrong, string? BrushOff);

/// <summary>
/// A rule-based judge of whether a reply addresses its ticket: does it talk about the ticket's intent, name the
/// ticket's order number, product and amount, and avoid canned brush-offs. Configured with the domain's vocabulary:
/// <c>RelevanceJudge.Create().Intent("billing", "charge", "invoice").Products("Thermo 2").References(@"LH-\d{6}").BrushOffs("Read the manual.")</c>.
/// </summary>
/// <remarks>
/// Score = (0.5·intent + 0.3·specifics + 0.2·no-brush-off) / (sum of the weights used); the specifics part is left out
/// (and its weight with it) when neither ticket nor reply names any specific. A blank reply scores 0.
/// Cues and product names match case-insensitively at the start of a word (a cue "charg" matches "charged");
/// amounts are money amounts with a currency sign or code (€12.50, 12,50 EUR, £7.00), compared by value.
/// The words of a brush-off found in the reply count for neither intent nor specifics ("Refunds take time." is not
/// about the customer's refund). The parts are what an automatic judge can check; they say nothing about whether the advice is correct.
/// </remarks>
public sealed class RelevanceJudge
{
    /// <summary>Weight of the intent part.</summary>
    public const double IntentWeight = 0.5;
    /// <summary>Weight of the specifics part.</summary>
    public const double SpecificsWeight = 0.3;
    /// <summary>Weight of the no-brush-off part.</summary>
    public const double BrushOffWeight = 0.2;

    private static readonly Regex Money = new(
        @"(?<sign>[€£$])\s?(?<value>\d+(?:[.,]\d{1,2})?)|(?<value>\d+(?:[.,]\d{1,2})?)\s?(?<code>EUR|GBP|USD)\b",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);

    private readonly List<(string Name, Regex[] Cues)> _intents = [];
    private readonly List<(string Name, Regex Pattern)> _products = [];
    private readonly List<Regex> _references = [];
    private readonly List<string> _brushOffs = [];

    private RelevanceJudge() { }

    /// <summary>Starts an empty judge; add intents (at least one), products, reference patterns and brush-offs.</summary>
    public static RelevanceJudge Create() => new();

    /// <summary>An intent and the words (or word starts) that show a text is about it.</summary>
    public RelevanceJudge Intent(string name, params string[] cues)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("The intent needs a name.", nameof(name));
        if (_intents.Any(i => i.Name == name)) throw new ArgumentException($"The intent '{name}' is already defined.", nameof(name));
        if (cues.Length == 0 || cues.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException($"The intent '{name}' needs at least one non-blank cue.", nameof(cues));
        _intents.Add((name, cues.Select(c => WordStart(c, wholeWord: false)).ToArray()));
        return this;
    }

    /// <summary>Product names the judge recognises (matched as whole words, case-insensitively).</summary>
    public RelevanceJudge Products(params string[] names)
    {
        if (names.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("A product name is blank.", nameof(names));
        foreach (var n in names) _products.Add((n.Trim(), WordStart(n.Trim(), wholeWord: true)));
        return this;
    }

    /// <summary>A regular expression for reference numbers (orders, parcels); matches compare case-insensitively.</summary>
    public RelevanceJudge References(string pattern)
    {
        try { _references.Add(new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)); }
        catch (ArgumentException e) { throw new ArgumentException($"The reference pattern '{pattern}' is not a valid regular expression: {e.Message}", nameof(pattern)); }
        return this;
    }

    /// <summary>Canned replies that brush the customer off (matched as case-insensitive substrings).</summary>
    public RelevanceJudge BrushOffs(params string[] phrases)
    {
        if (phrases.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("A brush-off phrase is blank.", nameof(phrases));
        _brushOffs.AddRange(phrases.Select(p => p.Trim()));
        return this;
    }

    /// <summary>The intents the judge knows, in the order they were added.</summary>
    public IReadOnlyList<string> Intents => _intents.Select(i => i.Name).ToList();

    /// <summary>The intent with the most distinct cues in <paramref name="text"/> (the first added on a tie), or null when none occurs.</summary>
    public string? IntentOf(string text)
    {
        var hits = CueHits(text);
        int best = -1;
        for (int i = 0; i < hits.Length; i++) if (hits[i] > 0 && (best < 0 || hits[i] > hits[best])) best = i;
        return best < 0 ? null : _intents[best].Name;
    }

    /// <summary>The specifics a text names, as keys: "ref:LH-123456", "product:Thermo 2", "amount:12.50".</summary>
    public IReadOnlyList<string> SpecificsOf(string text)
    {
        var keys = new List<string>();
        foreach (var r in _references)
            foreach (Match m in r.Matches(text)) keys.Add("ref:" + m.Value.ToUpperInvariant());
        foreach (var (name, pattern) in _products)
            if (pattern.IsMatch(text)) keys.Add("product:" + name);
        foreach (Match m in Money.Matches(text))
        {
            var value = decimal.Parse(m.Groups["value"].Value.Replace(',', '.'), CultureInfo.InvariantCulture);
            keys.Add("amount:" + value.ToString("0.00", CultureInfo.InvariantCulture));
        }
        return keys.Distinct().ToList();
    }

    /// <summary>
    /// Judges <paramref name="reply"/> as an answer to <paramref name="ticket"/>. <paramref name="intent"/> is the
    /// ticket's intent when known (it must be one the judge has); otherwise it is read from the ticket's cues.
    /// </summary>
    public RelevanceScore Score(string ticket, string reply, string? intent = null)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        ArgumentNullException.ThrowIfNull(reply);
        if (_intents.Count == 0) throw new InvalidOperationException("The judge has no intents: add them with Intent(name, cues).");
        if (intent is not null && _intents.All(i => i.Name != intent))
            throw new ArgumentException($"The intent '{intent}' is not one the judge knows ({string.Join(", ", Intents)}).", nameof(intent));
        intent ??= IntentOf(ticket);
        var ticketSpecifics = SpecificsOf(ticket);
        if (reply.Trim().Length == 0)
            return new RelevanceScore(0, 0, ticketSpecifics.Count > 0 ? 0 : null, 0, intent, null, [], ticketSpecifics, [], null);

        // canned text says nothing about this ticket: its words count for neither intent nor specifics
        var brushOff = _brushOffs.FirstOrDefault(b => reply.Contains(b, StringComparison.OrdinalIgnoreCase));
        var content = _brushOffs.Aggregate(reply, (text, b) => Regex.Replace(text, Regex.Escape(b), " ", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant));
        var hits = CueHits(content);
        int total = hits.Sum();
        int target = intent is null ? -1 : _intents.FindIndex(i => i.Name == intent);
        double intentPart = total == 0 || target < 0 ? 0 : (double)hits[target] / total;
        var replyIntent = IntentOf(content);

        var replySpecifics = SpecificsOf(content);
        var named = ticketSpecifics.Where(replySpecifics.Contains).ToList();
        var missing = ticketSpecifics.Where(s => !replySpecifics.Contains(s)).ToList();
        var wrong = replySpecifics.Where(s => !ticketSpecifics.Contains(s)).ToList();
        double? specifics = SpecificsPart(ticketSpecifics, replySpecifics, wrong);

        double noBrushOff = brushOff is null ? 1 : 0;

        double sum = IntentWeight * intentPart + BrushOffWeight * noBrushOff, weights = IntentWeight + BrushOffWeight;
        if (specifics is { } s) { sum += SpecificsWeight * s; weights += SpecificsWeight; }
        return new RelevanceScore(sum / weights, intentPart, specifics, noBrushOff, intent, replyIntent, named, missing, wrong, brushOff);
    }

    // right 1, left out ½, contradicted by another of its kind 0; stray specifics of other kinds 0 each
    private static double? SpecificsPart(IReadOnlyList<string> ticket, IReadOnlyList<string> reply, IReadOnlyList<string> wrong)
    {
        static string Kind(string key) => key[..key.IndexOf(':')];
        var terms = new List<double>();
        foreach (var t in ticket)
            terms.Add(reply.Contains(t) ? 1 : wrong.Any(w => Kind(w) == Kind(t)) ? 0 : 0.5);
        terms.AddRange(wrong.Where(w => ticket.All(t => Kind(t) != Kind(w))).Select(_ => 0.0));
        return terms.Count == 0 ? null : terms.Average();
    }

    private int[] CueHits(string text) => _intents.Select(i => i.Cues.Count(c => c.IsMatch(text))).ToArray();

    private static Regex WordStart(string phrase, bool wholeWord) =>
        new(@"(?<![\p{L}\p{N}])" + Regex.Escape(phrase.Trim()) + (wholeWord ? @"(?![\p{L}\p{N}])" : ""),
            RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
}
