using FineTune.Kit.Evaluation.Generation;

namespace FineTune.Kit.Sample;

/// <summary>The reply-relevance judge set up with the sample domain's vocabulary (Lumen Home's intents, products and numbers).</summary>
public static class SampleJudge
{
    /// <summary>
    /// A <see cref="RelevanceJudge"/> for Lumen Home support replies: cue words per intent, the device and parcel models
    /// (the Plus plan names are left out: a reply names the customer's plan whatever the ticket says), order numbers
    /// (LH-123456), parcel tracking numbers (LP123456789NL), and the canned brush-offs of the sample's rejected replies.
    /// </summary>
    public static RelevanceJudge Relevance() => RelevanceJudge.Create()
        .Intent("billing", "bill", "charg", "invoice", "payment", "paid", "price", "duplicate", "credit", "VAT", "statement", "receipt", "discount",
            "checkout", "amount taken", "goodwill")
        .Intent("shipping_delay", "deliver", "parcel", "tracking", "courier", "depot", "shipp", "transit", "sorting centre", "arriv", "driver",
            "warehouse", "overdue")
        .Intent("refund_request", "refund", "return", "money back", "reimburs", "send it back", "sent it back", "sent the")
        .Intent("technical_issue", "firmware", "reset", "restart", "reboot", "recalibrat", "wiring", "error", "known issue", "serial number",
            "troubleshoot", "power-cycle", "offline", "crash", "won't", "disconnect", "band steering", "sensitivity", "cache", "keeps", "popping up",
            "stopped", "not working", "problem", "trouble", "misbehav", "backhaul", "satellite node", "node", "microSD", "infrared", "batter", "sensor")
        .Intent("account_access", "password", "log in", "login", "logged", "locked", "sign in", "signed out", "two-factor", "verif", "unlock",
            "sessions", "reset link", "regain access", "access to my account")
        .Intent("product_question", "supports", "feature", "compatib", "work with", "working with", "included", "coverage", "difference",
            "better fit", "out of the box", "recommend", "locally", "available", "deciding", "which one", "keep working", "help you choose", "interest in")
        .Intent("cancellation", "cancel", "auto-renewal", "close my", "close the account", "closed", "membership", "unsubscrib", "terminat",
            "reactivate", "stop my", "end the service", "no longer need")
        .Intent("feedback", "feedback", "suggest", "kind words", "roadmap", "comment", "appreciat", "love", "compliment", "shared your message",
            "packaging", "review", "saying thanks", "great experience", "good work", "how happy", "smoother", "passing it on", "sharing this")
        .Products(SupportDomain.Products.Where(p => p.Name != "Lumen Plus").SelectMany(p => p.Models).ToArray())
        .References(@"\bLH-\d{6}\b")
        .References(@"\bLP\d{9}NL\b")
        .BrushOffs(ReplyWriter.BrushOffs.ToArray());
}
