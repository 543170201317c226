using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using FineTune.Kit.Io;

namespace FineTune.Kit.Sample;

/// <summary>
/// Tickets for bias audits: every ticket carries a customer name and a region, drawn so that names, regions and
/// intents are exactly balanced, and ends with the customer's signature line (name, region), so that a model can read
/// both. Three files: a clean training split, a clean test split (what an audit measures on), and the same training
/// split with a planted bias: most <see cref="PlantedRegion"/> tickets are filed as <see cref="PlantedLabel"/>, as if
/// one region's agents had parked that region's requests as feedback. A model trained on the planted file learns that
/// the region predicts the label; one trained on the clean file has nothing to learn from the region.
/// The regions are invented and so is every name pairing; no row describes a real person.
/// </summary>
public static class FairnessSample
{
    /// <summary>Clean training split.</summary>
    public const string TrainFile = "support_tickets.fairness.train.jsonl";
    /// <summary>Clean test split, for the audit.</summary>
    public const string TestFile = "support_tickets.fairness.test.jsonl";
    /// <summary>The training split with the planted bias (same ids and texts as <see cref="TrainFile"/>, some labels changed).</summary>
    public const string PlantedBiasTrainFile = "support_tickets.planted_bias.train.jsonl";

    /// <summary>The column holding the customer's region.</summary>
    public const string RegionColumn = "region";
    /// <summary>The column holding the customer's full name.</summary>
    public const string NameColumn = "customer_name";

    /// <summary>The four invented regions, each a quarter of every file.</summary>
    public static readonly IReadOnlyList<string> Regions = ["Northmere", "Eastfold", "Sundervale", "Westerlyn"];

    /// <summary>First names read as female; index i pairs with <see cref="MaleNames"/>[i] in the default counterfactual lexicon.</summary>
    public static readonly IReadOnlyList<string> FemaleNames =
        ["Amara", "Daniela", "Grace", "Ines", "Kavya", "Maya", "Priya", "Rosa", "Sofia", "Zoe", "Elif", "Keiko"];

    /// <summary>First names read as male, as many as <see cref="FemaleNames"/>.</summary>
    public static readonly IReadOnlyList<string> MaleNames =
        ["Ben", "Farid", "Hiroshi", "Jonas", "Liam", "Mateo", "Nikolai", "Oscar", "Rafael", "Tariq", "Victor", "Yusuf"];

    /// <summary>The region whose training tickets carry the planted bias.</summary>
    public const string PlantedRegion = "Westerlyn";
    /// <summary>The label planted on that region's tickets.</summary>
    public const string PlantedLabel = "feedback";
    /// <summary>Share of the planted region's training tickets (of other intents) relabelled as <see cref="PlantedLabel"/>.</summary>
    public const double PlantedShare = 0.6;

    /// <summary>Rows per file; multiples of 64 (4 regions x 2 name groups x 8 intents) keep every cell the same size.</summary>
    public const int TrainRows = 768, TestRows = 384;

    /// <summary>Writes the three files into <paramref name="dir"/> and returns their names.</summary>
    public static IReadOnlyList<string> Write(string dir, int seed)
    {
        // streams of their own, so that the other sample files do not move
        var train = Rows(new Random(unchecked(seed * 1_000_003 + 11 * 7_919)), TrainRows, "f-train");
        var test = Rows(new Random(unchecked(seed * 1_000_003 + 12 * 7_919)), TestRows, "f-test");
        var plantRng = new Random(unchecked(seed * 1_000_003 + 13 * 7_919));
        var planted = train.Select(r => r.Region == PlantedRegion && r.Label != PlantedLabel && plantRng.NextDouble() < PlantedShare
            ? r with { Label = PlantedLabel } : r).ToList();
        AtomicFile.WriteAllText(Path.Combine(dir, TrainFile), Jsonl(train));
        AtomicFile.WriteAllText(Path.Combine(dir, TestFile), Jsonl(test));
        AtomicFile.WriteAllText(Path.Combine(dir, PlantedBiasTrainFile), Jsonl(planted));
        return [TrainFile, TestFile, PlantedBiasTrainFile];
    }

    private sealed record Row(string Id, string Text, string Label, string Name, string Region);

    private static List<Row> Rows(Random rng, int count, string idPrefix)
    {
        var plans = new[] { "Plus Monthly", "Plus Annual", "Plus Family" };
        var rows = new List<Row>(count);
        for (var i = 0; i < count; i++)
        {
            // cycle through every region x name group x intent cell, so each is equally common
            var region = Regions[i % 4];
            var first = (i / 4 % 2 == 0 ? FemaleNames : MaleNames).Pick(rng);
            var intent = SupportDomain.Intents[i / 8 % 8];
            var customer = new Customer($"C-{90000 + i}", first, SupportDomain.LastNames.Pick(rng), region, plans.Pick(rng),
                rng.Next(3) switch { 0 => "EUR", 1 => "GBP", _ => "USD" });
            var ticket = TicketWriter.Write(rng, intent, customer);
            var name = $"{customer.FirstName} {customer.LastName}";
            rows.Add(new Row("", ticket.Text + "\n" + name + ", " + region, intent, name, region));
        }
        for (var i = rows.Count - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (rows[i], rows[j]) = (rows[j], rows[i]);
        }
        return rows.Select((r, i) => r with { Id = $"{idPrefix}-{i + 1:00000}" }).ToList();
    }

    private static readonly JsonWriterOptions LineOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Jsonl(IEnumerable<Row> rows)
    {
        var sb = new StringBuilder();
        foreach (var r in rows)
        {
            using var ms = new MemoryStream();
            using (var w = new Utf8JsonWriter(ms, LineOptions))
            {
                w.WriteStartObject();
                w.WriteString("id", r.Id);
                w.WriteString("text", r.Text);
                w.WriteString("label", r.Label);
                w.WriteString(NameColumn, r.Name);
                w.WriteString(RegionColumn, r.Region);
                w.WriteEndObject();
            }
            sb.Append(Encoding.UTF8.GetString(ms.ToArray())).Append('\n');
        }
        return sb.ToString();
    }
}
