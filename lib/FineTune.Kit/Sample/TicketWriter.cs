using System.Text;

namespace FineTune.Kit.Sample;

/// <summary>A generated support ticket with its intent (and, for ambiguous ones, the intent it also touches).</summary>
internal sealed record Ticket(string Text, string Intent, string? AlsoTouches, TicketFacts Facts);

/// <summary>
/// Writes customer tickets: a core request phrased one of many ways per intent, wrapped in optional greetings, context,
/// details, requests and sign-offs, in one of several writing styles. Vocabulary is shared across intents on purpose
/// (money words in billing, refunds and cancellations; delivery words in shipping, refunds and feedback), so the intent
/// has to be read from the whole request rather than a single keyword.
/// </summary>
internal static class TicketWriter
{
    private static readonly Dictionary<string, string[]> Core = new()
    {
        ["billing"] =
        [
            "I was charged {amount} twice for my {plan} plan this month.",
            "My invoice for {month} shows {amount}, but my plan is supposed to cost less than that.",
            "There's a payment of {amount} on my card from {company} that I don't recognise.",
            "Why did the price of {plan} go up without any notice?",
            "I updated my card but the payment for order {order} still failed.",
            "Can you send me a proper VAT invoice for order {order}? The one in the app has the wrong address.",
            "my bank statement says {amount} was taken on {date}, thats more than the checkout total",
            "The discount code from the newsletter wasn't applied at checkout, so I paid {amount} instead of the reduced price.",
            "You billed me for the {model} even though I paid for it in the store in {city}.",
            "I'm paying for two {plan} subscriptions but I only have one account.",
            "How do I change the card you take the monthly payment from?",
            "The {plan} renewal on {date} took {amount} from my old bank account instead of the new one.",
            "I was told the upgrade would be free, yet my latest statement has an extra {amount} on it.",
            "The receipt for order {order} lists {amount} but I only saw {amount2} at checkout.",
            "I don't need a refund, I just want to understand why the invoice for {month} is {amount}.",
            "I cancelled my old plan in {month} but was still charged {amount} on {date}.",
        ],
        ["shipping_delay"] =
        [
            "My order {order} was supposed to arrive on {date} and it's still not here.",
            "Tracking for {tracking} has said 'in transit' for {days} days.",
            "The {device} I ordered is {days} days late. Where is it?",
            "Parcel {tracking} {symptom}.",
            "I paid extra for Express delivery on order {order} and it's been over a week.",
            "Still waiting on order {order}. The estimated delivery date keeps moving.",
            "Can you tell me when my {device} will actually ship? The order page has said 'processing' since {date}.",
            "nothing has arrived yet for {order}, the driver app said out for delivery yesterday",
            "I need the {device} before I move house on {date2}, is it going to make it in time?",
            "The delivery window for {tracking} came and went twice and no driver showed up.",
            "Your site promised delivery within 3 days, it has been {days} and the parcel is still at the depot.",
            "The parcel with my {device} hasn't moved from the sorting centre since {date}.",
            "I don't want a refund or a replacement, I just want to know where parcel {tracking} is.",
            "Please don't cancel order {order}, I still want it, but it's {days} days overdue."
        ],
        ["refund_request"] =
        [
            "I'd like my money back for order {order}.",
            "Please refund the {amount} for the {model}; I returned it on {date}.",
            "The {device} arrived damaged and I want a refund, not a replacement.",
            "I sent the {device} back {days} days ago and still haven't seen the refund on my card.",
            "You charged me {amount} for Express shipping but it came late, so I expect that money back.",
            "Can I return the {device}? It doesn't suit our home and I'd like a full refund.",
            "One of your agents promised me a refund of {amount} on {date}. Where is it?",
            "return label for {order} please, want to send it back and get reimbursed",
            "The parcel never arrived, so please reimburse me for order {order}.",
            "Your website says there's a 30-day money-back guarantee. I'm on day {days}, so please process it.",
            "I was charged for a {plan} year I never used. I want that {amount} returned to me.",
            "The replacement {device} has the same fault, so I'd rather have my {amount} back.",
            "Order {order} was cancelled on your side, yet the {amount} never came back to my card.",
        ],
        ["technical_issue"] =
        [
            "My {model} {symptom}.",
            "Since the last update my {model} {symptom}.",
            "I already tried restarting it but the {model} still {symptom}.",
            "Error {error} keeps popping up on the {model}.",
            "Is there a known problem with the {model}? Mine {symptom}.",
            "The {model} {symptom}, and the light on the front blinks orange.",
            "Ever since the power cut on {date} my {model} {symptom}.",
            "the {model} {symptom}. reset it twice already",
            "We set up the {model} last week and now it {symptom}.",
            "My {model} {symptom} whenever the microwave is running.",
            "Both of our {model} units {symptom}.",
            "I'd rather not ask for a refund, so please help me get the {model} working: it {symptom}.",
        ],
        ["account_access"] =
        [
            "I can't log in to my account, it says my password is wrong.",
            "The password reset email never arrives, I've checked spam too.",
            "My account got locked after too many attempts.",
            "I changed my phone and now the two-factor code goes to my old number.",
            "Someone else seems to have signed into my account from {city}.",
            "The verification link to get back into my account has expired and I can't request a new one.",
            "I need to change the email address on my account but I can't sign in to do it.",
            "My ex set up the {device} under their account and moved out; how do I get access to it?",
            "can't get into my Lumen account since {date}",
            "The login page just reloads when I press Sign in.",
            "I'm stuck in a loop: the app asks for a code, I enter it and it asks again.",
            "My account shows as deactivated even though I'm still paying for {plan}.",
        ],
        ["product_question"] =
        [
            "Does the {model} support {feature}?",
            "Is the {device} compatible with a combi boiler and Google Home?",
            "What's the difference between the {model} and the {model2}?",
            "Before I order: does {plan} include {feature}?",
            "How many {device} units can I add to one home?",
            "Will the {device} keep working if my internet goes down?",
            "Is {feature} available for addresses in {city}?",
            "Can I use the {device} in a rented flat without drilling?",
            "quick question, does the {model} come with {feature} or is that extra",
            "I'm deciding between the {model} and the {model2}, which one is better for a large house?",
            "Does {feature} cost extra on the {model}, or is it included in the price?",
            "Will my old {device} work with the new app, or do I need to upgrade?",
        ],
        ["cancellation"] =
        [
            "Please cancel my {plan} subscription.",
            "I want to switch off auto-renewal before the next billing date on {date}.",
            "Cancel order {order} please, I ordered the wrong model.",
            "How do I end my {plan} plan? I can't find the option in the app.",
            "I'm moving abroad and want to close my {plan} membership.",
            "I don't use {plan} any more, please don't charge me again after this month.",
            "Can I still cancel the {device} order before it ships?",
            "terminate my contract pls, {days} days notice is fine",
            "Stop my {plan} trial before it turns into a paid plan.",
            "We no longer need the {model}, so please end the service and close the account.",
            "I'd like to downgrade from {plan} to nothing at all, no more renewals.",
            "No refund needed for this month, just make sure {plan} doesn't renew.",
        ],
        ["feedback"] =
        [
            "Just wanted to say the {model} has been great since {date}.",
            "Your driver in {city} was really friendly and careful with my parcel.",
            "The new app design is confusing; the energy tab used to be easier to find.",
            "Suggestion: let us set {feature} per room.",
            "Honestly, setting up the {model} was the smoothest install I've ever done.",
            "I'm disappointed with how long support took last time, though the answer was good.",
            "The {model} works fine but the packaging was wasteful, lots of plastic.",
            "Five stars for the {plan} plan, worth every cent.",
            "It would be nice if the {model} had {feature} one day.",
            "Not a complaint, but the delivery notifications could be more precise.",
            "Thank you to {agent} who fixed my problem last week in five minutes.",
            "The {model} looks great on the wall, my neighbours keep asking about it.",
            "The refund for my returned {device} came through in two days, impressive service.",
            "Cancelling my old plan was quick and painless, and I'll probably be back.",
        ],
    };

    private static readonly string[] Situations =
    [
        "The {device} I ordered (order {order}) was supposed to come on {date}.",
        "My {plan} plan renewed on {date} for {amount}.",
        "I ordered a {device} for my parents in {city} last month.",
        "I signed up for {plan} in {month} together with a {device}.",
        "We got the {device} as a present and installed it on {date}.",
        "About the {device} from order {order}:",
        "Regarding my {plan} subscription and the {device} that came with it.",
        "I bought the {device} in your {city} shop for {amount}.",
        "My account has the {device} and the {plan} plan on it.",
        "It's about order {order}, paid {amount}.",
    ];

    private static readonly Dictionary<string, string[]> Requests = new()
    {
        ["billing"] =
        [
            "Why was I charged {amount2} for it on top of that?", "The amount taken doesn't match what the checkout said.",
            "Now there are two payments for the same thing on my statement.", "The invoice lists a different price, please correct it.",
            "My card was debited again this week even though it's paid for.", "Can you explain the extra line on my bill?",
        ],
        ["shipping_delay"] =
        [
            "It still hasn't shown up.", "Where is it now? Tracking hasn't changed in {days} days.", "Nothing has been delivered yet.",
            "The courier keeps pushing the date back.", "It's {days} days overdue and nobody can tell me where it is.",
            "When can I actually expect it at my door?",
        ],
        ["refund_request"] =
        [
            "I want my money back.", "Please reimburse the full amount.", "I'd like to send it back and be paid back.",
            "I'm returning it, so please put the {amount} back on my card.", "I expect the payment to be reversed since it's going back.",
            "Please process the return and the refund.",
        ],
        ["technical_issue"] =
        [
            "Since yesterday it {symptom}.", "It {symptom} and nothing I try helps.", "Now it just {symptom}.",
            "It worked for a week, but now it {symptom}.", "Out of nowhere it {symptom}.",
        ],
        ["account_access"] =
        [
            "But I can't sign in to manage it.", "I'm locked out of the account it's registered to.", "The app won't accept my password any more.",
            "I never got the code to log in, so I can't see anything.", "My login stopped working and the reset link fails.",
        ],
        ["product_question"] =
        [
            "Does it support {feature}?", "Can it work together with my other Lumen devices?", "Is {feature} included, or is that sold separately?",
            "Which settings do you recommend for a small flat?", "Will it still work if I move to a house in {city}?",
        ],
        ["cancellation"] =
        [
            "Please stop it, I won't need it after this month.", "I want to end it before the next period starts.",
            "Please terminate it, we're moving out.", "I don't want to continue with it, close it please.",
            "Make sure it doesn't renew again.",
        ],
        ["feedback"] =
        [
            "Honestly, it has been a great experience so far.", "Just wanted to let you know how happy we are with it.",
            "The whole process could have been smoother, to be honest.", "One small suggestion: make the app a bit simpler.",
            "No action needed, just saying thanks.",
        ],
    };

    private static readonly Dictionary<string, string[]> Details = new()
    {
        ["billing"] = ["The charge appeared on {date}.", "It's on the invoice as {amount}.", "I've attached a screenshot of the statement."],
        ["shipping_delay"] = ["The tracking number is {tracking}.", "The order was placed on {date}.", "Nobody knocked, I was home all day."],
        ["refund_request"] = ["The order number is {order}.", "I still have the original box.", "I paid {amount} by card."],
        ["technical_issue"] = ["I already tried to {fix}.", "It's on firmware from {month}.", "Other devices on the same Wi-Fi are fine.", "I've reinstalled the app."],
        ["account_access"] = ["I've tried three different browsers.", "The account is registered to my work email.", "I last logged in on {date}."],
        ["product_question"] = ["We live in an old house in {city}.", "I already own a {device}.", "I'm comparing it with another brand."],
        ["cancellation"] = ["My customer number should be on file.", "The subscription renews on {date}.", "I've already returned the {device}."],
        ["feedback"] = ["No reply needed.", "I've been a customer for {years} years.", "We bought it in {city}."],
    };

    private static readonly Dictionary<string, string[]> Asks = new()
    {
        ["billing"] = ["Please correct this.", "Can you explain the charge?", "Please fix the bill.", "I'd like an explanation of the amount."],
        ["shipping_delay"] = ["When will it arrive?", "Please tell me what's going on.", "Can you chase the courier?", "Where is my parcel?"],
        ["refund_request"] = ["Please confirm when the refund is processed.", "How long will the refund take?", "Please send me the money back."],
        ["technical_issue"] = ["How do I fix this?", "Any ideas?", "Is this a hardware fault?", "What should I try next?"],
        ["account_access"] = ["Please help me get back in.", "Can you unlock it?", "How do I regain access?"],
        ["product_question"] = ["Thanks in advance for the info.", "Let me know before I order.", "Any advice?"],
        ["cancellation"] = ["Please confirm the cancellation in writing.", "Let me know once it's done.", "Make sure I'm not charged again."],
        ["feedback"] = ["Keep up the good work.", "Hope this helps.", "Just passing it on."],
    };

    private static readonly string[] Greetings =
        ["Hi,", "Hello,", "Hi there,", "Dear Lumen Home team,", "Hey,", "Good morning,", "Hello support,", "To whom it may concern,", "Hi team,"];

    private static readonly string[] Context =
    [
        "I bought the {device} in {city} on {date}.", "I've been a customer for {years} years.", "My order number is {order}.",
        "I'm writing on behalf of my mother.", "This is my second message about this.", "I have the {plan} plan.", "We live in {city}.",
        "Long-time user here.", "Sorry if this is the wrong place to ask.",
    ];

    private static readonly string[] SignOffs =
        ["Thanks, {first}", "Regards, {first} {last}", "- {first}", "Cheers, {first}", "Best, {first} {last}", "Thank you", "Kind regards,\n{first} {last}", "{first}"];

    private static readonly string[] Bridges = ["Also, ", "On a side note, ", "Separately, ", "And while I'm at it: ", "By the way, "];

    /// <summary>Writes one ticket for the intent; <paramref name="ambiguous"/> adds a side remark from another intent.</summary>
    public static Ticket Write(Random rng, string intent, Customer customer, bool ambiguous = false)
    {
        var facts = new TicketFacts(rng, customer, ProductFor(rng, intent));
        // Four in ten tickets are composed from a situation shared by all intents plus an intent-specific request,
        // so the topic words say little and the request decides the label.
        // (Not for app problems: the shared situations talk about a device.)
        var core = rng.Chance(0.4) && !(intent == "technical_issue" && facts.Product.IsService)
            ? facts.Fill(Situations.Pick(rng)) + " " + facts.Fill(Requests[intent].Pick(rng))
            : facts.Fill(Core[intent].Pick(rng));
        string? also = null;
        string? aside = null;
        if (ambiguous)
        {
            also = SupportDomain.Intents.Where(i => i != intent).ToArray().Pick(rng);
            var sideFacts = new TicketFacts(rng, customer, ProductFor(rng, also));
            var side = sideFacts.Fill(Core[also].Pick(rng));
            aside = Bridges.Pick(rng) + char.ToLowerInvariant(side[0]) + side[1..];
        }

        var style = rng.Next(10);
        var parts = new List<string>();
        if (style is 0 or 1)
        {
            // Terse: just the request, often lower-case and without punctuation at the end.
            parts.Add(core);
            if (aside is not null) parts.Add(aside);
            var terse = string.Join(" ", parts);
            if (rng.Chance(0.5)) terse = terse.ToLowerInvariant().TrimEnd('.');
            return new Ticket(terse, intent, also, facts);
        }

        if (rng.Chance(0.7)) parts.Add(Greetings.Pick(rng));
        var body = new List<string>();
        if (rng.Chance(0.45)) body.Add(facts.Fill(Context.Pick(rng)));
        body.Add(core);
        if (rng.Chance(0.5)) body.Add(facts.Fill(Details[intent].Pick(rng)));
        if (aside is not null) body.Insert(rng.Next(1, body.Count + 1), aside);
        if (style == 2) body.Add(rng.Chance(0.5) ? "This is unacceptable!" : "I'm really frustrated at this point.");
        if (rng.Chance(0.6)) body.Add(facts.Fill(Asks[intent].Pick(rng)));
        parts.Add(string.Join(" ", body));
        if (rng.Chance(0.6)) parts.Add(facts.Fill(SignOffs.Pick(rng)));

        var separator = rng.Chance(0.5) ? "\n\n" : rng.Chance(0.5) ? "\n" : " ";
        var text = string.Join(separator, parts);
        if (style == 3) text = Sloppy(rng, text);
        return new Ticket(text, intent, also, facts);
    }

    private static ProductLine ProductFor(Random rng, string intent)
    {
        var p = SupportDomain.Products;
        return intent switch
        {
            "shipping_delay" => p[3],
            "technical_issue" => new[] { p[0], p[1], p[2], p[4] }.Pick(rng),
            "billing" or "cancellation" => rng.Chance(0.6) ? p[4] : p.Pick(rng),
            _ => p.Pick(rng),
        };
    }

    // Lower-case, a dropped apostrophe or two and a swapped letter: how people type on phones.
    private static string Sloppy(Random rng, string text)
    {
        var sb = new StringBuilder(text.ToLowerInvariant().Replace("'", rng.Chance(0.5) ? "" : "'"));
        for (var k = 0; k < 2; k++)
        {
            var i = rng.Next(1, Math.Max(2, sb.Length - 2));
            if (char.IsLetter(sb[i]) && char.IsLetter(sb[i + 1])) (sb[i], sb[i + 1]) = (sb[i + 1], sb[i]);
        }
        return sb.ToString();
    }
}
