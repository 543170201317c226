using System.Text;
using FineTune.Kit.Data;
using System.Text.Json.Nodes;
using FineTune.Kit.Text.Jinja;

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
/// Renders (role, content) messages into the text a chat model was trained on: the model's own Jinja template
/// (<see cref="FromTokenizerFolder"/>, <see cref="FromJinja"/>), or a named one for models without one:
/// <see cref="ChatMl"/>, <see cref="Llama3"/>, <see cref="Plain"/>.
/// </summary>
public sealed class ChatTemplate
{
    private readonly string prefix;
    private readonly Func<string, string> header;
    private readonly string turnEnd;
    private readonly bool trimContent;
    private readonly JinjaTemplate? model;
    private readonly IReadOnlyDictionary<string, object?> specialTokenVariables = new Dictionary<string, object?>();

    private ChatTemplate(string name, JinjaTemplate template, IReadOnlyDictionary<string, object?> specialTokenVariables)
        : this(name, "", _ => "", "", false, [], template.Source)
    {
        model = template;
        this.specialTokenVariables = specialTokenVariables;
    }

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

    /// <summary>Whether this is a model's own Jinja template (rather than a named built-in one).</summary>
    public bool IsFromModel => model is not null;

    /// <summary>
    /// A template from Jinja source, as tokenizer_config.json or chat_template.jinja hold it.
    /// <paramref name="specialTokens"/> are the variables the template may use besides the messages (bos_token,
    /// eos_token, ...). Syntax errors are reported here, naming the line and construct.
    /// </summary>
    public static ChatTemplate FromJinja(string source, string name = "chat template", IReadOnlyDictionary<string, string>? specialTokens = null) =>
        new(name, JinjaTemplate.Parse(source, name),
            (specialTokens ?? new Dictionary<string, string>()).ToDictionary(kv => kv.Key, kv => (object?)kv.Value, StringComparer.Ordinal));

    /// <summary>
    /// The chat template of a tokenizer folder: chat_template.jinja when present, else tokenizer_config.json's
    /// chat_template (a string, or a list of named templates of which <paramref name="name"/> picks one, "default" when
    /// not given). A <paramref name="name"/> the folder does not define may name a built-in template (chatml, llama3,
    /// plain). Throws when the folder has no template and no name is given.
    /// </summary>
    public static ChatTemplate FromTokenizerFolder(string dir, string? name = null)
    {
        if (!Directory.Exists(dir)) throw new TokenizerFormatException($"tokenizer folder '{dir}' does not exist");
        var configPath = Path.Combine(dir, "tokenizer_config.json");
        var config = File.Exists(configPath) ? HfTokenizerFiles.ReadTokenizerConfig(configPath) : new TokenizerConfig();
        var tokens = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in new[] { ("bos_token", config.BosToken), ("eos_token", config.EosToken), ("pad_token", config.PadToken), ("unk_token", config.UnkToken) })
            if (value is not null) tokens[key] = value;

        var jinjaPath = Path.Combine(dir, "chat_template.jinja");
        if (name is not null && config.NamedChatTemplates.TryGetValue(name, out var namedSource))
            return FromJinja(namedSource, $"{configPath} chat_template '{name}'", tokens);
        if (name is not null)
        {
            if (All.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase)) is { } builtIn) return builtIn;
            var known = config.NamedChatTemplates.Keys.Concat(All.Select(t => t.Name));
            throw new ArgumentException($"'{dir}' has no chat template named '{name}'; expected one of: {string.Join(", ", known)}");
        }
        if (File.Exists(jinjaPath)) return FromJinja(File.ReadAllText(jinjaPath), jinjaPath, tokens);
        if (config.ChatTemplate is not null) return FromJinja(config.ChatTemplate, $"{configPath} chat_template", tokens);
        if (config.NamedChatTemplates.Count > 0)
            throw new ArgumentException($"{configPath}: chat_template lists {string.Join(", ", config.NamedChatTemplates.Keys)} but no 'default'; name one");
        throw new ArgumentException($"'{dir}' has no chat template (chat_template.jinja, or chat_template in tokenizer_config.json); name a built-in one: {string.Join(", ", All.Select(t => t.Name))}");
    }

    /// <summary>
    /// Renders a conversation given as JSON, the form chat templates are written for: <paramref name="messages"/> is an
    /// array of message objects (role, content, and whatever else the template reads, such as tool_calls), and
    /// <paramref name="variables"/> holds extra variables (tools, documents, ...). Built-in templates take only role and
    /// string content.
    /// </summary>
    public RenderedChat Render(JsonArray messages, bool addGenerationPrompt = false, JsonObject? variables = null)
    {
        if (model is null)
        {
            var plain = new List<ChatMessage>();
            for (var i = 0; i < messages.Count; i++)
            {
                var m = messages[i] as JsonObject;
                if (m?["role"] is not JsonValue r || r.GetValueKind() != System.Text.Json.JsonValueKind.String
                    || m["content"] is not JsonValue c || c.GetValueKind() != System.Text.Json.JsonValueKind.String)
                    throw new ArgumentException($"messages[{i}]: the built-in '{Name}' template needs string \"role\" and \"content\"");
                plain.Add(new ChatMessage(r.GetValue<string>(), c.GetValue<string>()));
            }
            return Render(plain, addGenerationPrompt);
        }
        var list = messages.Select(JinjaValues.FromJson).ToList();
        var extra = variables?.Where(kv => kv.Key != "messages").ToDictionary(kv => kv.Key, kv => JinjaValues.FromJson(kv.Value), StringComparer.Ordinal);
        return RenderModel(list, addGenerationPrompt, extra);
    }

    /// <summary>Renders messages; with <paramref name="addGenerationPrompt"/> it ends with the header of an assistant turn.</summary>
    public RenderedChat Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = false)
    {
        if (model is not null)
            return RenderModel(messages.Select(m => (object?)MessageValue(m)).ToList(), addGenerationPrompt, null);
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

    private static Dictionary<string, object?> MessageValue(ChatMessage m)
    {
        var d = new Dictionary<string, object?>(StringComparer.Ordinal) { ["role"] = m.Role, ["content"] = m.Content };
        if (m.Name is not null) d["name"] = m.Name;
        return d;
    }

    // The model's template: text, and assistant spans from its {% generation %} blocks when it has them, otherwise
    // by rendering prefixes: message i (an assistant turn) spans from the end of messages[..i] with a generation prompt
    // to the end of messages[..(i+1)].
    private RenderedChat RenderModel(List<object?> messages, bool addGenerationPrompt, Dictionary<string, object?>? extra)
    {
        var full = RenderJinja(messages, addGenerationPrompt, extra);
        if (model!.HasGenerationBlocks) return new RenderedChat(full.Text, full.GenerationSpans.Where(r => r.GetOffsetAndLength(full.Text.Length).Length > 0).ToList());
        var spans = new List<Range>();
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i] is not Dictionary<string, object?> m || m.GetValueOrDefault("role") as string != "assistant") continue;
            var before = RenderJinja(messages[..i], true, extra).Text;
            var through = RenderJinja(messages[..(i + 1)], false, extra).Text;
            if (!through.StartsWith(before, StringComparison.Ordinal) || !full.Text.StartsWith(through, StringComparison.Ordinal))
                throw new JinjaException(
                    $"{model.Name}: cannot find where assistant message {i} lies: the template renders the conversation so far differently " +
                    "depending on what follows it; mark assistant output with {% generation %} ... {% endgeneration %}");
            spans.Add(before.Length..through.Length);
        }
        return new RenderedChat(full.Text, spans);
    }

    private JinjaOutput RenderJinja(List<object?> messages, bool addGenerationPrompt, Dictionary<string, object?>? extra)
    {
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in specialTokenVariables) variables[k] = v;
        // transformers always passes these two, as None when the caller has none
        variables["tools"] = null;
        variables["documents"] = null;
        if (extra is not null) foreach (var (k, v) in extra) variables[k] = v;
        variables["messages"] = messages;
        variables["add_generation_prompt"] = addGenerationPrompt;
        return model!.Render(variables);
    }

    private static bool Overlaps(TokenSpan t, int offset, int length) =>
        t.Length == 0 ? t.Start >= offset && t.Start < offset + length : t.Start < offset + length && t.Start + t.Length > offset;

    /// <inheritdoc />
    public override string ToString() => Name;

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
