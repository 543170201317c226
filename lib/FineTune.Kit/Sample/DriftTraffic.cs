using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using FineTune.Kit.Io;

namespace FineTune.Kit.Sample;

/// <summary>One request of a traffic file: when it comes, what the customer wrote, its true intent and its segment.</summary>
public sealed record TrafficRequest(string Id, DateTimeOffset Time, string Text, string Label, string Segment)
{
    /// <summary>The segment of requests like the training data.</summary>
    public const string InDistribution = "in_distribution";
    /// <summary>The segment of requests after the shift.</summary>
    public const string Shifted = "shifted";
}

/// <summary>
/// The drift scenario of the sample: request traffic to replay against <c>ftk serve</c> and watch with
/// <c>ftk monitor</c>. traffic.in_distribution.jsonl holds tickets like the training data only;
/// traffic.drift.jsonl starts the same and, half way, Lumen Home launches a solar product line, customers start
/// complaining about camera privacy (an intent the model never saw), messages get longer and some come in German.
/// Each line: <c>{"id", "time", "text", "label", "segment"}</c>, one request every few seconds.
/// </summary>
public static class DriftTraffic
{
    /// <summary>File names written next to the other sample files.</summary>
    public const string InDistributionFile = "traffic.in_distribution.jsonl", DriftFile = "traffic.drift.jsonl";

    /// <summary>Requests per file; the drift file shifts after half of them.</summary>
    public const int Requests = 300;

    /// <summary>The intent of the new kind of complaint (not one of the eight the tickets use).</summary>
    public const string PrivacyIntent = "privacy_complaint";

    private static readonly DateTimeOffset Start = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    /// <summary>Reads a traffic file, naming the file and line of a malformed row.</summary>
    public static IReadOnlyList<TrafficRequest> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such traffic file (ftk sample writes {InDistributionFile} and {DriftFile})", path);
        var rows = new List<TrafficRequest>();
        var line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (text.Length == 0) continue;
            try
            {
                var e = JsonDocument.Parse(text).RootElement;
                rows.Add(new TrafficRequest(e.GetProperty("id").GetString()!,
                    DateTimeOffset.Parse(e.GetProperty("time").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                    e.GetProperty("text").GetString()!, e.GetProperty("label").GetString()!, e.GetProperty("segment").GetString()!));
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"{path}:{line}: expected {{\"id\", \"time\", \"text\", \"label\", \"segment\"}} ({ex.Message})", ex);
            }
        }
        return rows;
    }

    /// <summary>Writes both traffic files; <paramref name="draw"/> draws an in-distribution ticket.</summary>
    internal static IEnumerable<string> Write(string dir, Random rng, Func<Random, Ticket> draw)
    {
        // no text twice in a file: the reference (held-out or curated training data) holds no duplicates either, and
        // repeats of the short, common tickets would shift the length statistics by themselves
        var seen = new HashSet<string>(StringComparer.Ordinal);
        Ticket Unique(Random r)
        {
            while (true)
            {
                var t = draw(r);
                if (seen.Add(t.Text)) return t;
            }
        }
        var calm = new StringBuilder();
        var time = Start;
        for (var i = 0; i < Requests; i++)
        {
            time = time.AddSeconds(1 + rng.Next(9));
            var t = Unique(rng);
            calm.Append(Line(i, time, t.Text, t.Intent, TrafficRequest.InDistribution)).Append('\n');
        }
        var drift = new StringBuilder();
        seen.Clear();
        time = Start;
        for (var i = 0; i < Requests; i++)
        {
            time = time.AddSeconds(1 + rng.Next(9));
            if (i < Requests / 2)
            {
                var t = Unique(rng);
                drift.Append(Line(i, time, t.Text, t.Intent, TrafficRequest.InDistribution)).Append('\n');
                continue;
            }
            var (text, label) = rng.Next(10) switch
            {
                < 4 => Solar(rng),
                < 7 => Privacy(rng),
                _ => German(rng),
            };
            drift.Append(Line(i, time, text, label, TrafficRequest.Shifted)).Append('\n');
        }
        AtomicFile.WriteAllText(Path.Combine(dir, InDistributionFile), calm.ToString());
        AtomicFile.WriteAllText(Path.Combine(dir, DriftFile), drift.ToString());
        return [InDistributionFile, DriftFile];
    }

    private static readonly string[] SolarModels = ["Solar Inverter S5", "Battery Wall 10", "Solar Hub", "Panel Optimiser P2"];
    private static readonly string[] SolarFaults =
    [
        "exports no power to the grid although the panels are in full sun", "shows isolation fault {0} every morning",
        "trips the breaker whenever the heat pump starts", "reports {0} volts on phase two", "switches to backup mode for no reason",
        "charges the battery to {0} percent and then stops",
    ];
    private static readonly string[] SolarDetails =
    [
        "The installer came twice and replaced the string fuse, but the monitoring portal still shows a red warning triangle.",
        "The feed-in meter has not moved for {0} days, so I am losing money on every sunny afternoon.",
        "The fan inside the inverter cabinet runs loudly all night and the display flickers between two error codes.",
        "My electricity supplier says no export has been registered since the last firmware update on the gateway.",
    ];

    private static (string, string) Solar(Random rng)
    {
        var name = SupportDomain.FirstNames.Pick(rng);
        var model = SolarModels.Pick(rng);
        var fault = string.Format(CultureInfo.InvariantCulture, SolarFaults.Pick(rng), rng.Next(100, 999));
        var detail = string.Format(CultureInfo.InvariantCulture, SolarDetails.Pick(rng), rng.Next(3, 30));
        var text = $"Hello, this is {name} from {SupportDomain.Cities.Pick(rng)}. Since the new Lumen {model} was installed " +
                   $"{rng.Next(2, 9)} weeks ago it {fault}. {detail} {SolarDetails.Pick(rng).Replace("{0}", rng.Next(3, 30).ToString(CultureInfo.InvariantCulture))} " +
                   "Can you send an engineer or tell me which setting on the inverter I should change?";
        return (text, "technical_issue");
    }

    private static readonly string[] PrivacyIssues =
    [
        "were shared with another household in the app", "show up in someone else's cloud history",
        "were uploaded even though the privacy shutter was closed", "are kept for months after I deleted them",
        "were visible to a former tenant who still has an account",
    ];

    private static (string, string) Privacy(Random rng)
    {
        var camera = new[] { "Cam Indoor", "Cam Outdoor", "Doorbell Cam" }.Pick(rng);
        var text = $"I am really worried about my privacy. I found out that clips from my {camera} {PrivacyIssues.Pick(rng)}. " +
                   $"My neighbour told me on {SupportDomain.Weekdays.Pick(rng)} that she could see my front door. " +
                   "I want to know who had access to my recordings, how long you store them and I want every copy deleted under the GDPR. " +
                   "Please also confirm in writing that my personal data has not been sold or given to third parties.";
        return (text, PrivacyIntent);
    }

    private static readonly (string Text, string Label)[] GermanTickets =
    [
        ("Mein Lumen Thermo zeigt seit {0} Tagen die falsche Raumtemperatur an und die Heizung springt nachts an. Was kann ich tun?", "technical_issue"),
        ("Mein Paket ist seit {0} Tagen beim Sortierzentrum und die Sendungsverfolgung zeigt nichts Neues. Wann kommt es an?", "shipping_delay"),
        ("Mir wurde das Abo Plus diesen Monat zweimal abgebucht, insgesamt {0} Euro. Bitte erstatten Sie den doppelten Betrag.", "billing"),
        ("Ich möchte mein Abonnement kündigen und bitte um eine Bestätigung per E-Mail innerhalb von {0} Tagen.", "cancellation"),
        ("Die Kamera im Flur verliert ständig die Verbindung zum Router, obwohl der Mesh-Knoten nur {0} Meter entfernt steht.", "technical_issue"),
    ];

    private static (string, string) German(Random rng)
    {
        var (text, label) = GermanTickets.Pick(rng);
        return ($"Guten Tag, hier ist {SupportDomain.FirstNames.Pick(rng)}. " + text.Replace("{0}", rng.Next(2, 40).ToString(CultureInfo.InvariantCulture)) +
                " Vielen Dank für Ihre schnelle Hilfe.", label);
    }

    private static readonly JsonWriterOptions LineOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Line(int index, DateTimeOffset time, string text, string label, string segment)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, LineOptions))
        {
            w.WriteStartObject();
            w.WriteString("id", $"r-{index + 1:00000}");
            w.WriteString("time", time.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
            w.WriteString("text", text);
            w.WriteString("label", label);
            w.WriteString("segment", segment);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}
