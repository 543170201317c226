using FineTune.Kit.Evaluation;
using FineTune.Kit.Prompting;
using FineTune.Kit.Data;

namespace FineTune.Kit.Tests.Prompting;

public class PromptTemplateTests
{
    private static readonly PromptTemplate Template = PromptTemplate.WithInstruction("Classify the ticket.")
        .WithInputPrefix("Ticket: ").WithOutputPrefix("Category:")
        .WithLabels(LabelVerbalizer.Identity(["billing", "bug"]).Map("bug", " technical"));

    private static readonly LabeledExample[] Shots = [new("charged twice", "billing"), new("app crashes", "bug")];

    [Fact]
    public void Base_model_prompt_ends_where_the_label_follows()
    {
        var prompt = Template.Render("refund please", Shots);
        Assert.Equal(
            "Classify the ticket.\n\n" +
            "Ticket: charged twice\nCategory: billing\n\n" +
            "Ticket: app crashes\nCategory: technical\n\n" +
            "Ticket: refund please\nCategory:", prompt);
        Assert.Equal(prompt + " billing", Template.RenderWithLabel("refund please", "billing", Shots));
    }

    [Fact]
    public void Zero_shot_prompt_has_only_instruction_and_input()
    {
        Assert.Equal("Classify the ticket.\n\nTicket: hi\nCategory:", Template.Render("hi"));
    }

    [Fact]
    public void Chat_prompt_is_system_then_user_assistant_pairs_then_the_query()
    {
        var messages = Template.RenderChat("refund please", Shots);
        Assert.Equal(["system", "user", "assistant", "user", "assistant", "user"], messages.Select(m => m.Role));
        Assert.Equal("Classify the ticket.", messages[0].Content);
        Assert.Equal("Ticket: charged twice", messages[1].Content);
        Assert.Equal("technical", messages[4].Content); // verbalised, trimmed
        Assert.Equal("Ticket: refund please", messages[^1].Content);
    }

    [Fact]
    public void Verbalizer_maps_both_ways_and_rejects_ambiguity()
    {
        var v = Template.Verbalizer;
        Assert.Equal(["billing", "bug"], v.Labels);
        Assert.Equal([" billing", " technical"], v.Continuations);
        Assert.Equal("bug", v.Parse("  Technical issue, clearly"));
        Assert.Null(v.Parse("something else"));
        var collision = Assert.Throws<LabelCollisionException>(() => LabelVerbalizer.Identity(["a", "b"]).Map("b", " a"));
        Assert.Equal(("a", "b", " a"), (collision.First, collision.Second, collision.Text));
        var e = Assert.Throws<ArgumentException>(() => v.Verbalize("other"));
        Assert.Contains("billing, bug", e.Message);
    }

    [Fact]
    public void Templates_are_immutable()
    {
        var shared = LabelVerbalizer.Identity(["a", "b"]);
        var changed = shared.Map("a", " alpha");
        Assert.Equal(" a", shared.Verbalize("a"));
        Assert.Equal(" alpha", changed.Verbalize("a"));
        var other = Template.WithOutputPrefix("Answer:");
        Assert.EndsWith("Category:", Template.Render("x"));
        Assert.EndsWith("Answer:", other.Render("x"));
    }

    [Fact]
    public void Labels_as_words_replace_underscores_and_keep_the_leading_space()
    {
        var v = LabelVerbalizer.AsWords(["shipping_delay", "billing"]);
        Assert.Equal(["shipping_delay", "billing"], v.Labels);
        Assert.Equal([" shipping delay", " billing"], v.Continuations);
    }
}
