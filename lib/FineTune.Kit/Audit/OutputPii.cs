using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FineTune.Kit.Data.Curation;
using FineTune.Kit.Evaluation;
using FineTune.Kit.Models;
using FineTune.Kit.Plots;
using Plotly.NET;

namespace FineTune.Kit.Audit;

/// <summary>
/// Personal data in what a model writes: the curation stage's detectors (<see cref="PiiRedactionRule"/>: e-mail,
/// phone, card numbers passing Luhn, IBANs passing mod 97, IP addresses) run over generated texts. With the training
/// texts given, each finding also says whether that exact value occurs in the training data — a reproduced value is a
/// leak, a new one is invented (still worth knowing, since it looks real). The detectors find what their patterns
/// describe; names and street addresses are not among them.
/// </summary>
public static partial class OutputPii
{
    /// <summary>
    /// Scans texts. <paramref name="source"/> names where they came from (for the report); <paramref name="training"/>
    /// (optional) are the texts the model was trained on; <paramref name="notes"/> are carried into the report.
    /// </summary>
    public static PiiScanReport Scan(IReadOnlyList<string> texts, string source = "generated text", IEnumerable<string>? training = null,
        IReadOnlyList<string>? notes = null, PiiKind kinds = PiiKind.All)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var rule = new PiiRedactionRule(kinds);
        var known = training is null ? null : new HashSet<string>(training.SelectMany(t => rule.Find(t ?? "").Select(f => Key(t!.Substring(f.Start, f.Length)))), StringComparer.Ordinal);
        var findings = new List<PiiFinding>();
        var markers = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < texts.Count; i++)
        {
            var text = texts[i] ?? "";
            foreach (var f in rule.Find(text))
            {
                var value = text.Substring(f.Start, f.Length);
                findings.Add(new PiiFinding(i, f.Kind, Context(text, f), known is null ? null : known.Contains(Key(value))));
            }
            foreach (Match m in Placeholders().Matches(text)) markers[m.Value] = markers.GetValueOrDefault(m.Value) + 1;
        }
        return new PiiScanReport(source, texts.Count, findings, markers, notes ?? [], known is not null);
    }

    /// <summary>
    /// Generates a reply to every prompt (greedy unless <paramref name="options"/> say otherwise) and scans the
    /// replies; <paramref name="training"/> as for <see cref="Scan"/>.
    /// </summary>
    public static PiiScanReport ScanGenerations(CausalLM model, IReadOnlyList<string> prompts, GenerationOptions? options = null,
        IEnumerable<string>? training = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(prompts);
        var replies = prompts.Select(p => model.Generate(p, options)).ToList();
        return Scan(replies, $"replies of the model to {prompts.Count} prompts", training);
    }

    /// <summary>The text around a finding with the value itself replaced by its placeholder: the report repeats no personal data.</summary>
    private static string Context(string text, PiiRedactionRule.Finding f)
    {
        int from = Math.Max(0, f.Start - 30), to = Math.Min(text.Length, f.Start + f.Length + 30);
        return (from > 0 ? "…" : "") + text[from..f.Start] + PiiRedactionRule.Placeholder(f.Kind) + text[(f.Start + f.Length)..to] + (to < text.Length ? "…" : "");
    }

    /// <summary>Values compared without case and separators: "+49 30 1234" and "+4930-1234" are the same number.</summary>
    private static string Key(string value) => new(value.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant).ToArray());

    [GeneratedRegex(@"\[(EMAIL|PHONE|CREDIT_CARD|IBAN|IP)\]")]
    private static partial Regex Placeholders();
}

/// <summary>One detection: which text, what kind, the context (value replaced), and whether the value is in the training data.</summary>
/// <param name="Text">Index of the scanned text.</param>
/// <param name="Kind">What was found.</param>
/// <param name="Context">Up to 30 characters either side, the value replaced by its placeholder.</param>
/// <param name="InTrainingData">True when the same value occurs in the training texts; null when none were given.</param>
public sealed record PiiFinding(int Text, PiiKind Kind, string Context, bool? InTrainingData);

/// <summary>What a PII scan found: texts with personal data (share with an interval), findings by kind, each finding in context.</summary>
public sealed class PiiScanReport : IReport
{
    internal PiiScanReport(string source, int texts, IReadOnlyList<PiiFinding> findings, IReadOnlyDictionary<string, int> placeholders,
        IReadOnlyList<string> notes, bool comparedWithTraining)
    {
        Source = source;
        Texts = texts;
        Findings = findings;
        Placeholders = placeholders;
        Notes = notes;
        ComparedWithTraining = comparedWithTraining;
        var hit = Enumerable.Range(0, texts).Select(i => findings.Any(f => f.Text == i) ? 1.0 : 0.0).ToArray();
        TextsWithPii = texts == 0 ? new ConfidenceInterval(0, 0, 0, 0.95) : new Bootstrap(1000, 0.95, Seeds.Default).Mean(hit);
    }

    /// <summary>Where the texts came from.</summary>
    public string Source { get; }
    /// <summary>Texts scanned.</summary>
    public int Texts { get; }
    /// <summary>Every detection.</summary>
    public IReadOnlyList<PiiFinding> Findings { get; }
    /// <summary>Placeholders already in the texts ([EMAIL], …): personal data redacted before the texts were stored.</summary>
    public IReadOnlyDictionary<string, int> Placeholders { get; }
    /// <summary>What the scan could and could not see.</summary>
    public IReadOnlyList<string> Notes { get; }
    /// <summary>Whether findings were looked up in training texts.</summary>
    public bool ComparedWithTraining { get; }
    /// <summary>Share of texts with at least one finding, with a 95% bootstrap interval.</summary>
    public ConfidenceInterval TextsWithPii { get; }

    /// <summary>Findings per kind ("EMAIL", "PHONE", …), every kind listed.</summary>
    public IReadOnlyDictionary<string, int> ByKind =>
        new[] { PiiKind.Email, PiiKind.Phone, PiiKind.CreditCard, PiiKind.Iban, PiiKind.Ip }
            .ToDictionary(k => PiiRedactionRule.Placeholder(k).Trim('[', ']'), k => Findings.Count(f => f.Kind == k));

    /// <summary>
    /// The numbers as a JSON object (the "output_pii" part of an audit report): <c>{"source", "texts",
    /// "texts_with_pii", "texts_with_pii_ci", "by_kind": {...}, "in_training_data", "placeholders", "findings", "notes"}</c>.
    /// </summary>
    public JsonObject ToJsonObject() => new()
    {
        ["source"] = Source,
        ["texts"] = Texts,
        ["texts_with_pii"] = TextsWithPii.Estimate,
        ["texts_with_pii_ci"] = PrivacyStatistics.Interval(TextsWithPii),
        ["findings_total"] = Findings.Count,
        ["by_kind"] = new JsonObject(ByKind.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
        ["in_training_data"] = ComparedWithTraining ? Findings.Count(f => f.InTrainingData == true) : null,
        ["placeholders"] = new JsonObject(Placeholders.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
        ["findings"] = new JsonArray(Findings.Select(f => (JsonNode)new JsonObject
        {
            ["text"] = f.Text, ["kind"] = PiiRedactionRule.Placeholder(f.Kind).Trim('[', ']'), ["context"] = f.Context,
            ["in_training_data"] = f.InTrainingData,
        }).ToArray()),
        ["notes"] = new JsonArray(Notes.Select(n => (JsonNode)n).ToArray()),
    };

    /// <inheritdoc/>
    public string ToJson() => ToJsonObject().ToJsonString(PrivacyStatistics.Indented);

    /// <summary>Findings per kind.</summary>
    public IReadOnlyList<GenericChart> Charts() =>
        [Quick.Bars($"Personal data found in {Source}", ByKind.Keys, ByKind.Values.Select(v => (double)v), "findings")];

    /// <inheritdoc/>
    public string ToHtml()
    {
        var page = new HtmlPage("Personal data in outputs");
        page.Paragraph($"{Texts} texts scanned ({Source}); {Findings.Count} findings; texts with any: {TextsWithPii}.");
        foreach (var note in Notes) page.Paragraph(note);
        page.Table(["kind", "findings"], ByKind.Select(p => (IReadOnlyList<string>)[p.Key, p.Value.ToString()]));
        if (Placeholders.Count > 0)
            page.Table(["placeholder already in the texts", "count"], Placeholders.Select(p => (IReadOnlyList<string>)[p.Key, p.Value.ToString()]));
        foreach (var chart in Charts()) page.Chart(chart);
        if (Findings.Count > 0)
            page.Table(["text", "kind", "context (value replaced)", "in training data"], Findings.Select(f => (IReadOnlyList<string>)[
                f.Text.ToString(), PiiRedactionRule.Placeholder(f.Kind), f.Context, f.InTrainingData switch { true => "yes", false => "no", null => "not checked" }]));
        return page.ToHtml();
    }

    /// <inheritdoc/>
    public void Save(string directory) => ReportFolder.Write(this, directory);
}
