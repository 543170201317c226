using FineTune.Kit.Evaluation.Generation;
using FineTune.Kit.Sample;

namespace FineTune.Kit.Tests.Evaluation;

public class RelevanceJudgeTests
{
    // two intents, one product, order numbers and one brush-off: small enough to score by hand
    private static RelevanceJudge Judge() => RelevanceJudge.Create()
        .Intent("billing", "charg", "invoice")
        .Intent("shipping", "parcel", "deliver")
        .Products("Thermo 2")
        .References(@"LH-\d{6}")
        .BrushOffs("Read the manual.", "Parcels take time.");

    private const string Ticket = "I was charged €20.00 twice for order LH-123456.";

    [Fact]
    public void Parts_and_score_match_a_hand_computation()
    {
        // cues: billing "charg" (1), shipping "parcel" (1) → intent 1/2; specifics: the order named (1), the amount left out (½) → 3/4
        var s = Judge().Score(Ticket, "Sorry about the charge on order LH-123456; your parcel is fine.", "billing");
        Assert.Equal(0.5, s.Intent, 12);
        Assert.Equal(0.75, s.Specifics!.Value, 12);
        Assert.Equal(1, s.NoBrushOff);
        Assert.Equal(0.5 * 0.5 + 0.3 * 0.75 + 0.2 * 1, s.Score, 12);   // 0.675
        Assert.Equal(["ref:LH-123456"], s.Named);
        Assert.Equal(["amount:20.00"], s.Missing);
        Assert.Empty(s.Wrong);
    }

    [Fact]
    public void A_wrong_order_number_counts_against_the_reply()
    {
        // billing cues "charg" and "invoice" (2 of 2) → intent 1; the amount named (20,00 EUR is €20.00): 1; the order
        // contradicted by LH-654321: 0 → specifics ½
        var s = Judge().Score(Ticket, "I refunded the duplicate charge of 20,00 EUR on the invoice for LH-654321.", "billing");
        Assert.Equal(1, s.Intent, 12);
        Assert.Equal(0.5, s.Specifics!.Value, 12);
        Assert.Equal(["ref:LH-654321"], s.Wrong);
        Assert.Equal(0.5 * 1 + 0.3 * 0.5 + 0.2, s.Score, 12);   // 0.85
        // leaving the order out instead of contradicting it earns ½ for it: specifics ¾
        Assert.Equal(0.75, Judge().Score(Ticket, "The charge of €20.00 is reversed.", "billing").Specifics!.Value, 12);
        // a number where the ticket has none is wrong on its own: specifics 0
        Assert.Equal(0, Judge().Score("Where is my parcel?", "Parcel LH-111111 is on its way.", "shipping").Specifics!.Value, 12);
    }

    [Fact]
    public void Without_specifics_the_weights_are_renormalised_and_a_brush_off_costs_its_part()
    {
        // no specifics in ticket or reply: (0.5·intent + 0.2·no-brush-off) / 0.7; intent 1 (one shipping cue), brush-off found
        var s = Judge().Score("Where is my parcel?", "Read the manual. Your delivery is on its way.", "shipping");
        Assert.Null(s.Specifics);
        Assert.Equal(0, s.NoBrushOff);
        Assert.Equal("Read the manual.", s.BrushOff);
        Assert.Equal(0.5 / 0.7, s.Score, 12);
        // the brush-off's own words are no answer: "Parcels take time." holds the cue "parcel", but only inside the canned text
        var canned = Judge().Score("Where is my parcel?", "parcels take time.", "shipping");
        Assert.Equal(0, canned.Intent);
        Assert.Null(canned.ReplyIntent);
    }

    [Fact]
    public void The_intent_is_read_from_the_ticket_when_not_given_and_a_reply_about_another_intent_scores_zero_on_it()
    {
        var judge = Judge();
        Assert.Equal("shipping", judge.IntentOf("My parcel was never delivered"));
        Assert.Null(judge.IntentOf("Hello there"));
        var s = judge.Score("My parcel was never delivered", "The invoice has been corrected.");
        Assert.Equal("shipping", s.TicketIntent);
        Assert.Equal("billing", s.ReplyIntent);
        Assert.Equal(0, s.Intent);
        Assert.Equal(0.2 / 0.7, s.Score, 12);
    }

    [Fact]
    public void Products_match_whole_words_case_insensitively_and_a_blank_reply_scores_zero()
    {
        var judge = Judge();
        Assert.Equal(["product:Thermo 2"], judge.SpecificsOf("my thermo 2 is broken"));
        Assert.Empty(judge.SpecificsOf("my Thermo 20 is broken"));
        var s = judge.Score(Ticket, "   ", "billing");
        Assert.Equal(0, s.Score);
        Assert.Equal(0, s.Specifics);
    }

    [Fact]
    public void Bad_settings_are_refused_naming_what_is_wrong()
    {
        Assert.Contains("needs at least one", Assert.Throws<ArgumentException>(() => RelevanceJudge.Create().Intent("billing")).Message);
        Assert.Contains("not a valid regular expression", Assert.Throws<ArgumentException>(() => RelevanceJudge.Create().References("LH-(")).Message);
        Assert.Contains("'refunds' is not one the judge knows", Assert.Throws<ArgumentException>(() => Judge().Score("a", "b", "refunds")).Message);
        Assert.Throws<InvalidOperationException>(() => RelevanceJudge.Create().Score("a", "b"));
    }

    [Fact]
    public void The_sample_judge_prefers_the_chosen_reply_on_most_sample_pairs_and_every_easy_one()
    {
        var dir = TempFolder.Fresh();
        SampleData.Generate(dir, SampleData.DefaultSeed, includeCorpus: false);
        var judge = SampleJudge.Relevance();
        var rows = File.ReadLines(Path.Combine(dir, SampleData.PreferencesFile)).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
            .Select(r => (Prompt: r.GetProperty("prompt").GetString()!, Chosen: r.GetProperty("chosen").GetString()!,
                Rejected: r.GetProperty("rejected").GetString()!, Kind: r.GetProperty("negative_kind").GetString()!, Label: r.GetProperty("label").GetString()!)).ToList();
        bool Prefers((string Prompt, string Chosen, string Rejected, string Kind, string Label) r) =>
            judge.Score(r.Prompt, r.Chosen, r.Label).Score > judge.Score(r.Prompt, r.Rejected, r.Label).Score;
        var easy = rows.Where(r => r.Kind is "brush_off").ToList();
        var hard = rows.Where(r => r.Kind.StartsWith("wrong_")).ToList();
        Assert.All(easy, r => Assert.True(Prefers(r), r.Rejected));
        Assert.True(hard.Count(Prefers) >= 0.75 * hard.Count, $"{hard.Count(Prefers)} of {hard.Count} hard pairs");
    }
}
