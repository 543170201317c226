using System.Text;
using FineTune.Kit.Data;

namespace FineTune.Kit.Text;

/// <summary>A rendered conversation: the text, and the character spans the model is trained to produce.</summary>
/// <param name="Text">The whole conversation as the model sees it.</param>
/// <param name="AssistantSpans">
/// Spans of <paramref name="Text"/> that are assistant output: each message's content plus the marker that ends the
/// turn (so the model learns to stop). Training computes loss only on tokens inside them.
/// </param>
public sealed record RenderedChat(string Text, IReadOnlyList<Range> AssistantSpans);

/// <summary>A conversation encoded for training: token ids and, per token, whether it counts towards the loss.</summary>
public sealed record EncodedChat(IReadOnlyList<int> Ids, IReadOnlyList<bool> LossMask);

/// <summary>
/// Renders (role, content) messages into the text a chat model was trained on. Named templates:
/// <see cref="ChatMl"/>, <see cref="Llama3"/>, <see cref="Plain"/>.
/// </summary>
public sealed class ChatTemplate
{
    private readonly string prefix;
    private readonly Func<string, string> header;
    private readonly string turnEnd;
    private readonly bool trimContent;

    private ChatTemplate(string name, string prefix, Func<string, string> header, string turnEnd, bool trimContent,
                         IReadOnlyList<string> specialTokens, string? jinja)
    {
        Name = name;
        this.prefix = prefix;
        this.header = header;
        this.turnEnd = turnEnd;
        this.trimContent = trimContent;
        SpecialTokens = specialTokens;
        Jinja = jinja;
    }

    /// <summary>ChatML (Qwen, many small models): <c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c>.</summary>
    public static ChatTemplate ChatMl { get; } = new("chatml", "", role => $"<|im_start|>{role}\n", "<|im_end|>\n", false,
        ["<|im_start|>", "<|im_end|>"],
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}");

    /// <summary>Llama 3: a begin-of-text token, then header-delimited turns ending in <c>&lt;|eot_id|&gt;</c> (content trimmed).</summary>
    public static ChatTemplate Llama3 { get; } = new("llama3", "<|begin_of_text|>",
        role => $"<|start_header_id|>{role}<|end_header_id|>\n\n", "<|eot_id|>", true,
        ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
        "{{ '<|begin_of_text|>' }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}");

    /// <summary>Plain text for models without chat tokens: <c>User: ...\n</c>, <c>Assistant: ...\n</c>.</summary>
    public static ChatTemplate Plain { get; } = new("plain", "", role => Capitalize(role) + ": ", "\n", true, [], null);

    /// <summary>The template's name ("chatml", "llama3", "plain").</summary>
    public string Name { get; }

    /// <summary>Special tokens the template writes; the tokenizer should have them.</summary>
    public IReadOnlyList<string> SpecialTokens { get; }

    /// <summary>The equivalent Jinja template for tokenizer_config.json, where there is one.</summary>
    public string? Jinja { get; }

    /// <summary>All named templates.</summary>
    public static IReadOnlyList<ChatTemplate> All { get; } = [ChatMl, Llama3, Plain];

    /// <summary>A template by name (case-insensitive): chatml, llama3 or plain.</summary>
    public static ChatTemplate Named(string name) =>
        All.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown chat template '{name}'; expected one of: {string.Join(", ", All.Select(t => t.Name))}");

    /// <summary>Renders messages; with <paramref name="addGenerationPrompt"/> it ends with the header of an assistant turn.</summary>
    public RenderedChat Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = false)
    {
        var sb = new StringBuilder(prefix);
        var spans = new List<Range>();
        foreach (var m in messages)
        {
            sb.Append(header(m.Role));
            var start = sb.Length;
            sb.Append(trimContent ? m.Content.Trim() : m.Content).Append(turnEnd);
            if (m.Role == "assistant") spans.Add(start..sb.Length);
        }
        if (addGenerationPrompt) sb.Append(header("assistant"));
        return new RenderedChat(sb.ToString(), spans);
    }

    /// <summary>
    /// Renders and encodes messages with a loss mask over the assistant spans. Byte-level tokenizers encode piece by
    /// piece (text outside and inside the spans), so the masked ids decode to precisely the spans and a prompt ending in
    /// the generation header tokenizes as it did in training. SentencePiece tokenizers encode the whole text once
    /// (pieces would each get a dummy-prefix space) and mask every token that overlaps a span, so a token like
    /// "▁hello" that starts on the header's trailing space still counts.
    /// </summary>
    public EncodedChat Encode(TextTokenizer tokenizer, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = false)
    {
        var rendered = Render(messages, addGenerationPrompt);
        var spans = rendered.AssistantSpans.Select(s => s.GetOffsetAndLength(rendered.Text.Length)).ToList();
        if (!tokenizer.IsByteLevel)
        {
            var tokens = tokenizer.EncodeWithOffsets(rendered.Text);
            return new EncodedChat(tokens.Select(t => t.Id).ToList(),
                                   tokens.Select(t => spans.Any(s => Overlaps(t, s.Offset, s.Length))).ToList());
        }
        var ids = new List<int>();
        var mask = new List<bool>();
        var at = 0;
        void Add(int from, int to, bool trained)
        {
            if (to <= from) return;
            var piece = tokenizer.Encode(rendered.Text[from..to]);
            ids.AddRange(piece);
            mask.AddRange(Enumerable.Repeat(trained, piece.Count));
        }
        foreach (var (start, length) in spans)
        {
            Add(at, start, false);
            Add(start, start + length, true);
            at = start + length;
        }
        Add(at, rendered.Text.Length, false);
        return new EncodedChat(ids, mask);
    }

    private static bool Overlaps(TokenSpan t, int offset, int length) =>
        t.Length == 0 ? t.Start >= offset && t.Start < offset + length : t.Start < offset + length && t.Start + t.Length > offset;

    /// <inheritdoc />
    public override string ToString() => Name;

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
