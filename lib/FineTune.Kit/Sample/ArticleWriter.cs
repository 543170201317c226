using System.Globalization;
using System.Text;

namespace FineTune.Kit.Sample;

/// <summary>Writes the pre-training documents: help-centre articles, FAQ pages, release notes and ticket threads.</summary>
internal static class ArticleWriter
{
    private static readonly string[] Intros =
    [
        "This article explains {topic} for the {model}.", "If your {model} {symptom}, this guide walks you through the usual causes.",
        "Most customers can sort this out in a few minutes without calling support.", "Here is everything you need to know about {topic}.",
        "We get a lot of questions about {topic}, so we collected the answers in one place.",
    ];

    private static readonly string[] Why =
    [
        "The most common cause is a weak Wi-Fi signal where the device is installed.", "Often the cause is an outdated firmware version.",
        "In many homes the problem comes from interference with other devices on the same band.",
        "Sometimes the settings in the app and on the device get out of sync after a power cut.",
        "A small number of units from early batches have a faulty sensor, which we replace under warranty.",
    ];

    private static readonly string[] Closings =
    [
        "Still stuck? Contact Lumen Home Support from the app and mention the steps you already tried.",
        "If none of this helps, our support team is available every day from 8:00 to 20:00.",
        "Plus members get priority support: open the app and tap Help > Chat with us.",
        "Tip: keep your app up to date, many issues are fixed by the latest release.",
    ];

    private static readonly string[] Policies =
    [
        "Returns are free within 30 days of delivery, as long as the item is complete and undamaged.",
        "Refunds go back to the original payment method and usually appear within 5-7 business days.",
        "Subscriptions can be cancelled at any time; you keep access until the end of the paid period.",
        "Invoices are available in the app under Account > Billing and can be downloaded as PDF.",
        "Express delivery is refunded automatically when a parcel arrives more than one day late.",
        "Price changes are announced by email at least 30 days before they take effect.",
        "Two-factor authentication protects your account even if someone learns your password.",
        "Parcels that cannot be delivered twice are taken to the nearest Lumen Parcel locker for 7 days.",
    ];

    /// <summary>A help-centre article about one product.</summary>
    public static string Article(Random rng, Customer anyone)
    {
        var product = SupportDomain.Products.Pick(rng);
        var f = new TicketFacts(rng, anyone, product);
        var sb = new StringBuilder();
        switch (rng.Next(4))
        {
            case 0:
                sb.Append(f.Fill("Troubleshooting: the {model} {symptom}\n\n"));
                sb.Append(f.Fill(Intros.Pick(rng).Replace("{topic}", "what to do when the device misbehaves"))).Append(' ');
                sb.Append(Why.Pick(rng)).Append("\n\n");
                Steps(rng, sb, f, product.Fixes);
                break;
            case 1:
                sb.Append(f.Fill("How to set up {feature} on the {model}\n\n"));
                sb.Append(f.Fill(Intros.Pick(rng).Replace("{topic}", "{feature}"))).Append("\n\n");
                Steps(rng, sb, f,
                [
                    "open the Lumen app and tap the {model} tile", "go to Settings > {feature}", "switch the option on and choose your preferences",
                    "wait until the status light turns green", "test it once to make sure it behaves as expected", "save the changes",
                ]);
                break;
            case 2:
                sb.Append(f.Fill("{product} policies: billing, returns and cancellations\n\n"));
                foreach (var p in Policies.OrderBy(_ => rng.Next()).Take(rng.Next(3, 6))) sb.Append(p).Append(' ');
                sb.Append("\n\n");
                break;
            default:
                sb.Append(f.Fill("{model} vs {model2}: which one is right for you?\n\n"));
                sb.Append(f.Fill("Both are part of the {product} range. The {model2} adds {feature}, while the {model} keeps things simple and costs {amount}. "));
                sb.Append(f.Fill("Customers in larger homes usually prefer the {model2}; if you already own a {device}, both work with it.\n\n"));
                break;
        }
        sb.Append(Closings.Pick(rng));
        return sb.ToString();
    }

    /// <summary>A page of frequently asked questions.</summary>
    public static string Faq(Random rng, Customer anyone)
    {
        var product = SupportDomain.Products.Pick(rng);
        var sb = new StringBuilder();
        sb.Append(product.Name).Append(" FAQ\n\n");
        // Each kind of question at most once per page.
        foreach (var kind in Enumerable.Range(0, 5).OrderBy(_ => rng.Next()).Take(rng.Next(3, 6)))
        {
            var f = new TicketFacts(rng, anyone, product);
            var (q, a) = kind switch
            {
                0 => ("Does the {model} support {feature}?", "Yes. {feature} is available on the {model} after the latest update."),
                1 => ("What should I do if my {model} {symptom}?", "Try to {fix}. If that doesn't help, {fix2}."),
                2 => ("How do I get a refund?", Policies[1] + " " + Policies[0]),
                3 => ("Can I cancel {plan} at any time?", Policies[2]),
                _ => ("Where can I find my invoice?", Policies[3]),
            };
            sb.Append("Q: ").Append(f.Fill(q)).Append('\n').Append("A: ").Append(f.Fill(a)).Append("\n\n");
        }
        return sb.ToString().TrimEnd();
    }

    /// <summary>Release notes for a firmware or app version.</summary>
    public static string ReleaseNotes(Random rng, Customer anyone)
    {
        var product = SupportDomain.Products.Pick(rng);
        var f = new TicketFacts(rng, anyone, product);
        var version = string.Create(CultureInfo.InvariantCulture, $"{rng.Next(1, 9)}.{rng.Next(0, 10)}.{rng.Next(0, 20)}");
        var sb = new StringBuilder();
        sb.Append(f.Fill($"{{product}} {version} release notes ({{month}})\n\n"));
        sb.Append(f.Fill("New: {feature} is now available on the {model}.\n"));
        for (var i = 0; i < rng.Next(2, 5); i++)
            sb.Append("Fixed: an issue where the ").Append(product.Models.Pick(rng)).Append(' ').Append(product.Symptoms.Pick(rng)).Append(".\n");
        sb.Append("Improved: faster start-up and better battery life.\n");
        return sb.ToString().TrimEnd();
    }

    /// <summary>
    /// A resolved ticket as the help desk exports it: the customer's message and the agent's reply, with the intent the
    /// ticket was filed under written after the message (half of the threads), in the header (a fifth), or not at all.
    /// </summary>
    /// <remarks>
    /// Where the intent appears decides what a model pre-trained on these threads learns. Written only before the
    /// message, the intent can be copied rather than read from the text, and a frozen model then knows little about
    /// it at the end of a ticket. Written after the message (or left for the reply to imply), it must be inferred from
    /// the customer's words, which is what a classifier built on the model later needs.
    /// </remarks>
    public static string Thread(Random rng, Ticket ticket)
    {
        var reply = ReplyWriter.Helpful(rng, ticket);
        var intent = ticket.Intent.Replace('_', ' ');
        int placement = rng.Next(10);
        var header = placement < 2 ? "Ticket #{ticketno} (" + intent + ")" : "Ticket #{ticketno}";
        var filed = placement >= 5 ? "\n\nCategory: " + intent : "";
        return ticket.Facts.Fill(header + "\n\nCustomer: ") + ticket.Text + filed + "\n\nAgent: " + reply;
    }

    private static void Steps(Random rng, StringBuilder sb, TicketFacts f, string[] pool)
    {
        var steps = pool.OrderBy(_ => rng.Next()).Take(rng.Next(3, Math.Min(6, pool.Length) + 1)).ToList();
        for (var i = 0; i < steps.Count; i++)
        {
            var step = f.Fill(steps[i]);
            sb.Append(i + 1).Append(". ").Append(char.ToUpperInvariant(step[0])).Append(step[1..]).Append(".\n");
        }
        sb.Append('\n');
    }
}
