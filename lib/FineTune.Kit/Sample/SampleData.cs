using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using FineTune.Kit.Io;

namespace FineTune.Kit.Sample;

/// <summary>Row counts of a generated sample data set.</summary>
public sealed record SampleSummary(int RawTickets, int ChatRows, int PreferenceRows, int HeldOutRows, long CorpusBytes, IReadOnlyList<string> Files);

/// <summary>
/// Generates the sample data set of the fictional company Lumen Home (thermostat, router, camera, parcel service,
/// subscription app), byte-identical for a given seed:
/// support_tickets.raw.jsonl (dirty, for curation), support_chat.jsonl (chat SFT), preferences.jsonl (chosen/rejected),
/// support_tickets.heldout.jsonl (clean evaluation set) and pretrain_corpus.txt (about 3 MB of domain text).
/// </summary>
public static class SampleData
{
    /// <summary>The seed the committed files were generated with.</summary>
    public const int DefaultSeed = 7;

    /// <summary>File names written by <see cref="Generate"/>.</summary>
    public const string RawTicketsFile = "support_tickets.raw.jsonl", ChatFile = "support_chat.jsonl", PreferencesFile = "preferences.jsonl",
                        HeldOutFile = "support_tickets.heldout.jsonl", CorpusFile = "pretrain_corpus.txt";

    /// <summary>Separator between documents in the pre-training corpus (a line of its own).</summary>
    public const string DocumentSeparator = "<|endoftext|>";

    /// <summary>The system prompt of every chat row.</summary>
    public const string SystemPrompt =
        "You are the customer support assistant of Lumen Home. Answer the customer's message helpfully and specifically: " +
        "restate what it is about, say what you did or what they should do next, and keep a friendly tone.";

    private const int RawRows = 2500, ChatRows = 1000, PreferenceRows = 300, HeldOutRows = 400, CorpusTargetBytes = 3_000_000;
    private const int CustomerCount = 1200;

    // Intent mix of real support queues: more technical and delivery questions than feedback.
    private static readonly (string Intent, double Weight)[] IntentMix =
    [
        ("technical_issue", 0.20), ("shipping_delay", 0.16), ("billing", 0.14), ("refund_request", 0.12),
        ("product_question", 0.11), ("account_access", 0.10), ("cancellation", 0.09), ("feedback", 0.08),
    ];

    /// <summary>The eight intent labels of the sample tickets, in the generator's fixed order.</summary>
    public static IReadOnlyList<string> Intents => SupportDomain.Intents;

    /// <summary>Writes every sample file into <paramref name="dir"/>; with <paramref name="includeCorpus"/> also the corpus.</summary>
    public static SampleSummary Generate(string dir, int seed = DefaultSeed, bool includeCorpus = true)
    {
        Directory.CreateDirectory(dir);
        var customers = Customers(seed);
        var heldOut = HeldOut(seed, customers, out var heldOutTexts);
        var raw = RawTickets(seed, customers, heldOutTexts);

        var chatRng = Stream(seed, 3);
        var chat = new StringBuilder();
        for (var i = 0; i < ChatRows; i++)
        {
            var t = CleanTicket(chatRng, customers, heldOutTexts);
            chat.Append(Json(w =>
            {
                w.WriteStartArray("messages");
                foreach (var (role, content) in new[] { ("system", SystemPrompt), ("user", t.Text), ("assistant", ReplyWriter.Helpful(chatRng, t)) })
                {
                    w.WriteStartObject();
                    w.WriteString("role", role);
                    w.WriteString("content", content);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            })).Append('\n');
        }

        var prefRng = Stream(seed, 4);
        var prefs = new StringBuilder();
        for (var i = 0; i < PreferenceRows; i++)
        {
            var t = CleanTicket(prefRng, customers, heldOutTexts);
            prefs.Append(Json(w =>
            {
                w.WriteString("prompt", t.Text);
                w.WriteString("chosen", ReplyWriter.Helpful(prefRng, t));
                PreferenceNegatives.WriteRejected(w, prefRng, t);
            })).Append('\n');
        }

        AtomicFile.WriteAllText(Path.Combine(dir, RawTicketsFile), RawJsonl(raw, Stream(seed, 7)));
        AtomicFile.WriteAllText(Path.Combine(dir, ChatFile), chat.ToString());
        AtomicFile.WriteAllText(Path.Combine(dir, PreferencesFile), prefs.ToString());
        AtomicFile.WriteAllText(Path.Combine(dir, HeldOutFile), heldOut);
        var files = new List<string> { RawTicketsFile, ChatFile, PreferencesFile, HeldOutFile };
        files.AddRange(FairnessSample.Write(dir, seed));   // names, regions and a planted bias, for audits
        files.AddRange(DriftTraffic.Write(dir, Stream(seed, 8), rng => CleanTicket(rng, customers, heldOutTexts)));
        long corpusBytes = 0;
        if (includeCorpus)
        {
            corpusBytes = WriteCorpus(Path.Combine(dir, CorpusFile), seed, customers, heldOutTexts);
            files.Add(CorpusFile);
        }
        return new SampleSummary(raw.Count, ChatRows, PreferenceRows, HeldOutRows, corpusBytes, files);
    }

    /// <summary>
    /// Returns the path of pretrain_corpus.txt in <paramref name="dir"/>, generating it first if it is missing
    /// (it is not committed: about 3 MB, rebuilt in a few seconds).
    /// </summary>
    public static string EnsureCorpus(string dir, int seed = DefaultSeed)
    {
        var path = Path.Combine(dir, CorpusFile);
        if (File.Exists(path)) return path;
        var customers = Customers(seed);
        HeldOut(seed, customers, out var heldOutTexts);
        WriteCorpus(path, seed, customers, heldOutTexts);
        return path;
    }

    /// <summary>Reads the pre-training corpus back as documents (split on the separator line).</summary>
    public static IEnumerable<string> ReadCorpusDocuments(string path)
    {
        var doc = new StringBuilder();
        foreach (var line in File.ReadLines(path))
        {
            if (line == DocumentSeparator)
            {
                if (doc.Length > 0) yield return doc.ToString().TrimEnd('\n');
                doc.Clear();
            }
            else doc.Append(line).Append('\n');
        }
        if (doc.Length > 0) yield return doc.ToString().TrimEnd('\n');
    }

    // Independent random streams per file, so changing one file's recipe leaves the others as they were.
    private static Random Stream(int seed, int stream) => new(unchecked(seed * 1_000_003 + stream * 7_919));

    private static Customer[] Customers(int seed)
    {
        var rng = Stream(seed, 1);
        var plans = new[] { "Plus Monthly", "Plus Annual", "Plus Family" };
        return Enumerable.Range(0, CustomerCount).Select(i =>
        {
            var city = SupportDomain.Cities.Pick(rng);
            var currency = rng.Next(3) switch { 0 => "EUR", 1 => "GBP", _ => "USD" };
            return new Customer($"C-{10000 + i * 7 + rng.Next(7)}", SupportDomain.FirstNames.Pick(rng), SupportDomain.LastNames.Pick(rng),
                                city, plans.Pick(rng), currency);
        }).ToArray();
    }

    private static string PickIntent(Random rng)
    {
        var x = rng.NextDouble();
        foreach (var (intent, weight) in IntentMix)
        {
            if (x < weight) return intent;
            x -= weight;
        }
        return IntentMix[^1].Intent;
    }

    // About 3% of tickets touch a second intent in passing; the label stays the intent of the request.
    private static Ticket NewTicket(Random rng, Customer[] customers) =>
        TicketWriter.Write(rng, PickIntent(rng), customers.Pick(rng), ambiguous: rng.Chance(0.03));

    private static Ticket CleanTicket(Random rng, Customer[] customers, HashSet<string> avoid)
    {
        while (true)
        {
            var t = NewTicket(rng, customers);
            if (!avoid.Contains(t.Text)) return t;
        }
    }

    private static string HeldOut(int seed, Customer[] customers, out HashSet<string> texts)
    {
        var rng = Stream(seed, 5);
        texts = new HashSet<string>(StringComparer.Ordinal);
        var sb = new StringBuilder();
        var i = 0;
        while (i < HeldOutRows)
        {
            var t = NewTicket(rng, customers);
            if (!texts.Add(t.Text)) continue;
            i++;
            sb.Append(Json(w =>
            {
                w.WriteString("id", $"h-{i:00000}");
                w.WriteString("text", t.Text);
                w.WriteString("label", t.Intent);
            })).Append('\n');
        }
        return sb.ToString();
    }

    private sealed record RawRow(string CustomerId, string? Text, string Label);

    private static List<RawRow> RawTickets(int seed, Customer[] customers, HashSet<string> heldOutTexts)
    {
        var rng = Stream(seed, 2);
        const int exactDuplicates = 125, nearDuplicates = 125, conflicts = 12, empties = 12, overLong = 8;
        var baseCount = RawRows - exactDuplicates - nearDuplicates - conflicts - empties - overLong;
        var tickets = new List<(Ticket Ticket, RawRow Row)>();
        for (var i = 0; i < baseCount; i++)
        {
            var t = CleanTicket(rng, customers, heldOutTexts);
            var text = t.Text;
            if (rng.Chance(0.08)) text = Dirt.AddPii(rng, text, t.Facts.Customer);
            if (rng.Chance(0.05)) text = Dirt.AddHtml(rng, text);
            var label = rng.Chance(0.03) ? Dirt.MistypeLabel(rng, t.Intent) : t.Intent;
            tickets.Add((t, new RawRow(t.Facts.Customer.Id, text, label)));
        }
        var rows = tickets.Select(t => t.Row).ToList();
        for (var i = 0; i < exactDuplicates; i++) rows.Add(tickets.Pick(rng).Row);
        for (var i = 0; i < nearDuplicates; i++)
        {
            var (t, r) = tickets.Pick(rng);
            rows.Add(r with { Text = Dirt.NearDuplicate(rng, r.Text!), CustomerId = rng.Chance(0.8) ? r.CustomerId : customers.Pick(rng).Id });
        }
        for (var i = 0; i < conflicts; i++)
        {
            // The same text filed twice under different intents (two agents disagreeing).
            var (t, r) = tickets.Pick(rng);
            var other = t.AlsoTouches ?? SupportDomain.Intents.Where(x => x != t.Intent).ToArray().Pick(rng);
            rows.Add(r with { Label = other });
        }
        for (var i = 0; i < empties; i++)
            rows.Add(new RawRow(customers.Pick(rng).Id, new[] { "", " ", "\n", "   \t" }.Pick(rng), SupportDomain.Intents.Pick(rng)));
        for (var i = 0; i < overLong; i++)
        {
            var (t, r) = tickets.Pick(rng);
            rows.Add(r with { Text = Dirt.OverLong(rng, r.Text!) });
        }
        for (var i = rows.Count - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (rows[i], rows[j]) = (rows[j], rows[i]);
        }
        return rows;
    }

    private static string RawJsonl(List<RawRow> rows, Random rng)
    {
        var broken = rows.Count / 2 + rng.Next(-100, 100);
        while ((rows[broken].Text?.Length ?? 0) < 40) broken++;   // cut a real ticket, not an empty row
        var sb = new StringBuilder();
        for (var i = 0; i < rows.Count; i++)
        {
            var id = $"t-{i + 1:00000}";
            var row = rows[i];
            var line = Json(w =>
            {
                w.WriteString("id", id);
                w.WriteString("customer_id", row.CustomerId);
                w.WriteString("text", row.Text);
                w.WriteString("label", row.Label);
            });
            // Exactly one line is cut off mid-string, as if an export was interrupted.
            if (i == broken) line = line[..(line.IndexOf("\"text\"", StringComparison.Ordinal) + 30)];
            sb.Append(line).Append('\n');
        }
        return sb.ToString();
    }

    private static long WriteCorpus(string path, int seed, Customer[] customers, HashSet<string> heldOutTexts)
    {
        var rng = Stream(seed, 6);
        var sb = new StringBuilder(CorpusTargetBytes + 10_000);
        var bytes = 0L;
        while (bytes < CorpusTargetBytes)
        {
            var anyone = customers.Pick(rng);
            var doc = rng.Next(20) switch
            {
                < 6 => ArticleWriter.Article(rng, anyone),
                < 9 => ArticleWriter.Faq(rng, anyone),
                < 11 => ArticleWriter.ReleaseNotes(rng, anyone),
                _ => ArticleWriter.Thread(rng, CleanTicket(rng, customers, heldOutTexts)),
            };
            sb.Append(doc).Append('\n').Append(DocumentSeparator).Append('\n');
            bytes += Encoding.UTF8.GetByteCount(doc) + DocumentSeparator.Length + 2;
        }
        AtomicFile.WriteAllText(path, sb.ToString());
        return bytes;
    }

    private static readonly JsonWriterOptions LineOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Json(Action<Utf8JsonWriter> body)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, LineOptions))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}
