using System.Text.Json;

namespace FineTune.Kit.Sample;

/// <summary>
/// The rejected side of the sample's preference pairs. Half are easy (a canned brush-off, or one short sentence about
/// another problem); half are hard: a fluent, polite, full-length reply that answers a different intent, or the right
/// intent with another order or tracking number, another product or another amount than the ticket's. Easy negatives
/// teach politeness; hard ones teach relevance. Each row says which it is in "negative_kind".
/// </summary>
internal static class PreferenceNegatives
{
    /// <summary>The field of a preference row naming the kind of its rejected reply.</summary>
    public const string KindField = "negative_kind";

    /// <summary>Kinds of hard negatives (fluent replies about the wrong thing).</summary>
    public static readonly string[] HardKinds = ["wrong_intent", "wrong_reference", "wrong_product", "wrong_amount"];

    /// <summary>Kinds of easy negatives (curt or one-line replies).</summary>
    public static readonly string[] EasyKinds = ["brush_off", "short_off_topic"];

    private const double HardShare = 0.5, SwapShare = 0.6;
    private const int SwapAttempts = 6;

    /// <summary>Writes "rejected", "negative_kind" and the ticket's intent as "label" (as the held-out file names it) for one ticket.</summary>
    public static void WriteRejected(Utf8JsonWriter w, Random rng, Ticket ticket)
    {
        var (reply, kind) = Rejected(rng, ticket);
        w.WriteString("rejected", reply);
        w.WriteString(KindField, kind);
        w.WriteString("label", ticket.Intent);
    }

    /// <summary>A rejected reply for the ticket and its kind.</summary>
    public static (string Reply, string Kind) Rejected(Random rng, Ticket ticket)
    {
        if (!rng.Chance(HardShare))
        {
            var curt = ReplyWriter.Unhelpful(rng, ticket);
            // the unhelpful writer either strings brush-offs together or greets and answers another intent in one line
            return (curt, curt.StartsWith("Hi ") || curt.StartsWith("Hello ") || curt.StartsWith("Dear ") ? "short_off_topic" : "brush_off");
        }
        var f = ticket.Facts;
        if (rng.Chance(SwapShare))
        {
            // a specific can be swapped only when both the ticket and the reply name it, so that the swap is visibly
            // wrong; helpful replies name the order or amount only in some templates, so a few are tried
            for (int attempt = 0; attempt < SwapAttempts; attempt++)
            {
                var reply = ReplyWriter.Helpful(rng, ticket);
                var swaps = new List<(string Kind, string Slot, string Other)>();
                if (Names(ticket.Text, f["order"]) && reply.Contains(f["order"])) swaps.Add(("wrong_reference", "order", $"LH-{OtherNumber(rng, f["order"][3..], 100000, 999999)}"));
                if (Names(ticket.Text, f["tracking"]) && reply.Contains(f["tracking"])) swaps.Add(("wrong_reference", "tracking", $"LP{rng.Next(10, 99)}{rng.Next(1000000, 9999999)}NL"));
                if (Names(ticket.Text, f["model"]) && reply.Contains(f["model"])) swaps.Add(("wrong_product", "model", OtherModel(rng, f.Product)));
                if (Names(ticket.Text, f["amount"]) && reply.Contains(f["amount"]) && f["amount2"] != f["amount"] && !Names(ticket.Text, f["amount2"]))
                    swaps.Add(("wrong_amount", "amount", f["amount2"]));
                if (swaps.Count == 0) continue;
                var (kind, slot, other) = swaps.Pick(rng);
                return (reply.Replace(f[slot], other), kind);
            }
        }
        var wrongIntent = SupportDomain.Intents.Where(i => i != ticket.Intent && i != ticket.AlsoTouches).ToArray().Pick(rng);
        return (ReplyWriter.Helpful(rng, ticket with { Intent = wrongIntent, AlsoTouches = null }), "wrong_intent");
    }

    private static bool Names(string text, string value) => text.Contains(value, StringComparison.OrdinalIgnoreCase);

    private static string OtherNumber(Random rng, string current, int min, int max)
    {
        while (true)
        {
            var n = rng.Next(min, max).ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (n != current) return n;
        }
    }

    private static string OtherModel(Random rng, ProductLine product) =>
        SupportDomain.Products.Where(p => p != product && p.Name != "Lumen Plus").SelectMany(p => p.Models).ToArray().Pick(rng);
}
