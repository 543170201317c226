namespace FineTune.Kit.Sample;

/// <summary>
/// Writes agent replies: helpful ones that restate the specifics (order, amount, product) and give concrete next
/// steps, and curt or off-topic ones used as the rejected side of preference pairs.
/// </summary>
internal static class ReplyWriter
{
    private static readonly string[] Openers =
        ["Hi {first},", "Hello {first},", "Dear {first},", "Hi {first}, thanks for getting in touch.", "Hello {first}, thank you for your message."];

    private static readonly Dictionary<string, string[]> Acknowledge = new()
    {
        ["billing"] = ["I'm sorry about the confusion with your bill.", "Thanks for flagging the charge, I understand how worrying an unexpected payment is.", "I've looked into the payment you mentioned."],
        ["shipping_delay"] = ["I'm sorry your delivery is late.", "I understand how frustrating it is to wait for a parcel.", "Thanks for your patience with this delivery."],
        ["refund_request"] = ["I'm sorry the purchase didn't work out.", "Thanks for letting us know, I can help with the refund.", "I've picked up your refund request."],
        ["technical_issue"] = ["I'm sorry the {model} is giving you trouble.", "Thanks for the detailed description of the problem.", "That sounds annoying, let's get it sorted."],
        ["account_access"] = ["I'm sorry you're locked out.", "Let's get you back into your account.", "Thanks for reaching out about your login."],
        ["product_question"] = ["Great question!", "Thanks for your interest in the {model}.", "Happy to help you choose."],
        ["cancellation"] = ["I'm sorry to see you go.", "I can take care of that for you.", "Thanks for letting us know in advance."],
        ["feedback"] = ["Thank you so much for taking the time to write.", "We really appreciate your feedback.", "Thanks for sharing this with us."],
    };

    private static readonly Dictionary<string, string[]> Act = new()
    {
        ["billing"] =
        [
            "I checked your {plan} account and the {amount} on {date} was a duplicate payment. I've reversed it, and it will be back on your card within 3-5 business days.",
            "The {amount} is the annual price that applied after your introductory period ended. I've applied a one-off credit of {amount2} as a goodwill gesture.",
            "I've corrected the invoice for order {order} and sent a new PDF with the right address to your email.",
            "You can change the card for your {plan} payments under Account > Billing > Payment method; the next charge will use the new card.",
        ],
        ["shipping_delay"] =
        [
            "I've checked tracking number {tracking}: the parcel is at our sorting centre and is scheduled to go out tomorrow. I've marked it as priority.",
            "I've opened a trace with the depot for order {order}. If it isn't delivered within 2 working days we'll send a replacement free of charge.",
            "The courier had an address exception on your parcel. I've confirmed the address with the depot and rebooked delivery for the next available day.",
            "Your order {order} left our warehouse on {date}; the delay was at the regional hub. You should receive it within 48 hours, and I've refunded the Express fee.",
        ],
        ["refund_request"] =
        [
            "I've issued a refund of {amount} for order {order}. It usually shows on your statement within 5-7 business days.",
            "I've sent a prepaid return label for the {device} to your email. As soon as the parcel is scanned at the depot, the refund of {amount} will be released.",
            "Your return was received on {date} and the refund of {amount} was approved today; you'll get a confirmation email shortly.",
            "Because the item arrived damaged, you don't need to send it back. I've refunded the full {amount} to your original payment method.",
        ],
        ["technical_issue"] =
        [
            "Please {fix}. If that doesn't help, {fix2}, and let me know how it behaves afterwards.",
            "This is a known issue that we fixed in the latest update. Please {fix}; the problem should stop within a few minutes.",
            "First, {fix}. If the {model} still misbehaves after that, reply with the serial number on the back and I'll arrange a replacement under warranty.",
            "Could you {fix}? In most homes that resolves it. If not, {fix2}.",
        ],
        ["account_access"] =
        [
            "I've unlocked your account and sent a password reset link that is valid for 24 hours. Please check the spam folder if you don't see it.",
            "I've removed the old phone number from two-factor authentication. Next time you sign in you'll be asked to register your new number.",
            "For your security I've signed out all active sessions and reset your password. Please set a new one and turn on two-factor authentication.",
            "Once you confirm your date of birth and the last four digits of the card on file, I can move the {device} to your own account.",
        ],
        ["product_question"] =
        [
            "Yes, the {model} supports {feature} out of the box; you can turn it on in the Lumen app under Settings.",
            "The {model2} adds {feature} and a larger coverage area, while the {model} is the better fit for smaller homes.",
            "{feature} is included with the {plan} plan at no extra cost, and you can add up to 10 devices per home.",
            "The {model} keeps running its last schedule locally if the internet goes down, and syncs again when the connection returns.",
        ],
        ["cancellation"] =
        [
            "I've cancelled your {plan} subscription. You keep access until the end of the current period and won't be charged again.",
            "Order {order} hadn't shipped yet, so I've cancelled it and the full {amount} will be returned to your card.",
            "I've switched off auto-renewal; your plan ends on {date2} and you'll get a confirmation email today.",
            "Your account and {plan} membership are now closed. If you change your mind, you can reactivate within 30 days.",
        ],
        ["feedback"] =
        [
            "I've shared your message with the {product} team; suggestions like {feature} directly shape our roadmap.",
            "I've passed your kind words on to the team in {city}. It really makes their day.",
            "I've logged your comments about the app design with our product team, and I'll update you when we change the energy tab.",
            "We're already working on lighter packaging, and your message helps us make the case.",
        ],
    };

    private static readonly string[] Closers =
        ["Let me know if there's anything else I can do.", "Just reply to this message if you need anything else.", "I'll keep this ticket open until I hear from you.", "Have a lovely day."];

    private static readonly string[] Signatures = ["Best regards,\n{agent}, Lumen Home Support", "Kind regards,\n{agent}\nLumen Home Support", "- {agent}, Lumen Home Support"];

    private static readonly string[] Curt =
    [
        "Please see our help centre.", "We have received your message.", "Try turning it off and on again.",
        "That's not something we can help with.", "Contact your bank.", "Please wait.", "Refunds take time.", "Read the manual.",
        "Your ticket has been closed.", "We don't comment on individual orders.", "Already answered in the FAQ.", "Noted.",
    ];

    /// <summary>The canned brush-offs the unhelpful replies are made of.</summary>
    public static IReadOnlyList<string> BrushOffs => Curt;

    /// <summary>A helpful, specific reply to a ticket.</summary>
    public static string Helpful(Random rng, Ticket ticket)
    {
        var f = ticket.Facts;
        var body = f.Fill(Acknowledge[ticket.Intent].Pick(rng)) + " " + f.Fill(Act[ticket.Intent].Pick(rng));
        if (ticket.AlsoTouches is not null && rng.Chance(0.7))
            body += " " + f.Fill("About your other point: I've also noted it on your account, so a colleague will follow up on it separately.");
        return f.Fill(Openers.Pick(rng)) + "\n\n" + body + " " + Closers.Pick(rng) + "\n\n" + f.Fill(Signatures.Pick(rng));
    }

    /// <summary>A curt or off-topic reply: polite enough to look like an answer, but useless to the customer.</summary>
    public static string Unhelpful(Random rng, Ticket ticket)
    {
        var f = ticket.Facts;
        if (rng.Chance(0.25))
        {
            // Answers a different question than the one asked.
            var wrong = SupportDomain.Intents.Where(i => i != ticket.Intent).ToArray().Pick(rng);
            return f.Fill(Openers.Pick(rng)) + " " + f.Fill(Act[wrong].Pick(rng));
        }
        var curt = Curt.Pick(rng);
        return rng.Chance(0.3) ? curt : Curt.Where(c => c != curt).ToArray().Pick(rng) + " " + curt;
    }
}
