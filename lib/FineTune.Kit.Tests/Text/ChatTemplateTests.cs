using FineTune.Kit.Text;
using FineTune.Kit.Data;

namespace FineTune.Kit.Tests.Text;

public class ChatTemplateTests
{
    private static readonly ChatMessage[] Conversation =
    [
        ChatMessage.System("You are helpful."),
        ChatMessage.User("My parcel is late."),
        ChatMessage.Assistant("Sorry! Let me check."),
        ChatMessage.User("Thanks"),
        ChatMessage.Assistant("It arrives tomorrow."),
    ];

    [Fact]
    public void ChatMlRendersTheKnownFormatAndMarksAssistantSpans()
    {
        var r = ChatTemplate.ChatMl.Render(Conversation);
        Assert.Equal(
            "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nMy parcel is late.<|im_end|>\n" +
            "<|im_start|>assistant\nSorry! Let me check.<|im_end|>\n<|im_start|>user\nThanks<|im_end|>\n" +
            "<|im_start|>assistant\nIt arrives tomorrow.<|im_end|>\n", r.Text);
        Assert.Equal(["Sorry! Let me check.<|im_end|>\n", "It arrives tomorrow.<|im_end|>\n"], r.AssistantSpans.Select(s => r.Text[s]));
    }

    [Fact]
    public void GenerationPromptOpensAnAssistantTurn()
    {
        var r = ChatTemplate.ChatMl.Render(Conversation[..2], addGenerationPrompt: true);
        Assert.EndsWith("<|im_start|>assistant\n", r.Text);
        Assert.Empty(r.AssistantSpans);
        var l = ChatTemplate.Llama3.Render(Conversation[..2], addGenerationPrompt: true);
        Assert.StartsWith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>", l.Text);
        Assert.EndsWith("<|start_header_id|>assistant<|end_header_id|>\n\n", l.Text);
    }

    [Fact]
    public void PlainAndLlama3SpansAreTheTrimmedAssistantContent()
    {
        var msgs = new[] { ChatMessage.User("hi"), ChatMessage.Assistant("  hello  ") };
        var p = ChatTemplate.Plain.Render(msgs);
        Assert.Equal("User: hi\nAssistant: hello\n", p.Text);
        Assert.Equal("hello\n", p.Text[p.AssistantSpans.Single()]);
        var l = ChatTemplate.Llama3.Render(msgs);
        Assert.Equal("hello<|eot_id|>", l.Text[l.AssistantSpans.Single()]);
    }

    [Fact]
    public void EncodedLossMaskCoversExactlyTheAssistantTokens()
    {
        var tok = TextTokenizer.Load(TestCorpus.SaveToTemp());
        var enc = ChatTemplate.ChatMl.Encode(tok, Conversation);
        Assert.Equal(enc.Ids.Count, enc.LossMask.Count);
        var trained = enc.Ids.Where((_, i) => enc.LossMask[i]);
        Assert.Equal("Sorry! Let me check.<|im_end|>\nIt arrives tomorrow.<|im_end|>\n", tok.Decode(trained));
        Assert.Equal(ChatTemplate.ChatMl.Render(Conversation).Text, tok.Decode(enc.Ids));
        // Boundaries sit next to special tokens or newlines, so piecewise encoding equals encoding the whole text.
        Assert.Equal(tok.Encode(ChatTemplate.ChatMl.Render(Conversation).Text), enc.Ids);
    }

    [Fact]
    public void TemplatesAreFoundByName()
    {
        Assert.Same(ChatTemplate.Llama3, ChatTemplate.Named("LLAMA3"));
        Assert.Throws<ArgumentException>(() => ChatTemplate.Named("alpaca"));
    }
}
