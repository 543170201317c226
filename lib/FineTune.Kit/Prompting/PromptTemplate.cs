using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Text;
using FineTune.Kit.Data;
using FineTune.Kit.Training;

namespace FineTune.Kit.Prompting;

/// <summary>
/// A classification prompt: an instruction, optional few-shot examples and the input, rendered as plain text for base
/// models (ending where the label text should follow) or as chat messages for chat models. Immutable: every
/// <c>With…</c> call returns a new template, so variants can share a base.
/// </summary>
/// <example>
/// <code>
/// var template = PromptTemplate.WithInstruction("Classify the support ticket.")
///     .WithInputPrefix("Ticket: ").WithOutputPrefix("Category:")
///     .WithLabels(LabelVerbalizer.Identity(["billing", "bug", "other"]));
/// string prompt = template.Render("I was charged twice", shots);   // ends with "Category:"
/// </code>
/// </example>
public sealed record PromptTemplate : IClassificationFormat
{
    /// <summary>The task description placed first (the system message in chat form).</summary>
    public string Instruction { get; init; } = "";
    /// <summary>Text before each input ("Text: ").</summary>
    public string InputPrefix { get; init; } = "Input: ";
    /// <summary>Text after each input, before the label ("Label:"); the verbalised label follows directly.</summary>
    public string OutputPrefix { get; init; } = "Label:";
    /// <summary>Between the input and the output prefix.</summary>
    public string InputOutputSeparator { get; init; } = "\n";
    /// <summary>Between the instruction, each example and the query.</summary>
    public string ExampleSeparator { get; init; } = "\n\n";
    /// <summary>Label ↔ continuation text.</summary>
    public LabelVerbalizer Verbalizer { get; init; } = new();

    /// <summary>Starts a template with an instruction.</summary>
    public static PromptTemplate WithInstruction(string instruction) => new() { Instruction = instruction };

    /// <summary>Sets the input prefix.</summary>
    public PromptTemplate WithInputPrefix(string prefix) => this with { InputPrefix = prefix };
    /// <summary>Sets the output prefix (the text right before the label).</summary>
    public PromptTemplate WithOutputPrefix(string prefix) => this with { OutputPrefix = prefix };
    /// <summary>Sets the separator between the parts of the prompt.</summary>
    public PromptTemplate WithExampleSeparator(string separator) => this with { ExampleSeparator = separator };
    /// <summary>Sets the separator between an input and its output prefix.</summary>
    public PromptTemplate WithInputOutputSeparator(string separator) => this with { InputOutputSeparator = separator };
    /// <summary>Sets the label verbaliser.</summary>
    public PromptTemplate WithLabels(LabelVerbalizer verbalizer) => this with { Verbalizer = verbalizer };
    /// <summary>Verbalises each label as itself with a leading space.</summary>
    public PromptTemplate WithLabels(params IEnumerable<string> labels) => this with { Verbalizer = LabelVerbalizer.Identity(labels) };

    /// <summary>
    /// The plain-text prompt for a base model: instruction, each example with its verbalised label, then the input and
    /// the output prefix with nothing after it — the model's continuation is the label.
    /// </summary>
    public string Render(string input, IReadOnlyList<LabeledExample>? shots = null)
    {
        var parts = new List<string>();
        if (Instruction.Length > 0) parts.Add(Instruction);
        foreach (var shot in shots ?? [])
            parts.Add(InputPrefix + shot.Text + InputOutputSeparator + OutputPrefix + Verbalizer.Verbalize(shot.Label));
        parts.Add(InputPrefix + input + InputOutputSeparator + OutputPrefix);
        return string.Join(ExampleSeparator, parts);
    }

    string IClassificationFormat.Prompt(string input) => Render(input);

    string IClassificationFormat.Completion(string label) => Verbalizer.Verbalize(label);

    /// <summary>A full training or scoring text: the prompt followed by the verbalised label.</summary>
    public string RenderWithLabel(string input, string label, IReadOnlyList<LabeledExample>? shots = null) =>
        Render(input, shots) + Verbalizer.Verbalize(label);

    /// <summary>
    /// The prompt as chat messages: the instruction as a system message, each example as a user/assistant pair, then
    /// the input as the last user message. The assistant's answer (the label text, trimmed) is what gets scored.
    /// </summary>
    public IReadOnlyList<ChatMessage> RenderChat(string input, IReadOnlyList<LabeledExample>? shots = null)
    {
        var messages = new List<ChatMessage>();
        if (Instruction.Length > 0) messages.Add(ChatMessage.System(Instruction));
        foreach (var shot in shots ?? [])
        {
            messages.Add(ChatMessage.User(UserTurn(shot.Text)));
            messages.Add(ChatMessage.Assistant(Verbalizer.Verbalize(shot.Label).Trim()));
        }
        messages.Add(ChatMessage.User(UserTurn(input)));
        return messages;
    }

    // the output prefix ("Label:") is a completion cue for base models; in chat form the assistant turn plays that role
    private string UserTurn(string text) => InputPrefix + text;

    private static readonly string[] JsonKeys =
        ["instruction", "input_prefix", "input_output_separator", "output_prefix", "example_separator", "labels"];

    /// <summary>
    /// The template as JSON: every text part and the labels with their verbalisations, in order —
    /// <c>{"instruction": "", "input_prefix": "Customer: ", "input_output_separator": "\n\n", "output_prefix": "Category:",
    /// "example_separator": "\n\n", "labels": {"billing": " billing", "shipping_delay": " shipping delay"}}</c>.
    /// <see cref="FromJson"/> reads it back into an equal template; <see cref="PromptFile"/> saves it beside an adapter.
    /// </summary>
    public string ToJson()
    {
        var labels = new JsonObject();
        for (var i = 0; i < Verbalizer.Labels.Count; i++) labels[Verbalizer.Labels[i]] = Verbalizer.Continuations[i];
        var json = new JsonObject
        {
            ["instruction"] = Instruction,
            ["input_prefix"] = InputPrefix,
            ["input_output_separator"] = InputOutputSeparator,
            ["output_prefix"] = OutputPrefix,
            ["example_separator"] = ExampleSeparator,
            ["labels"] = labels,
        };
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary>
    /// Reads a template written by <see cref="ToJson"/>. A missing text part takes the default of a new template; an
    /// unknown key, a value that is not a string or a malformed label map is a <see cref="DataFormatException"/> whose
    /// message starts with <paramref name="source"/> (a file name, say).
    /// </summary>
    public static PromptTemplate FromJson(string json, string source = "prompt")
    {
        JsonObject j;
        try { j = JsonNode.Parse(json) as JsonObject ?? throw new DataFormatException($"{source}: not a JSON object."); }
        catch (JsonException e) { throw new DataFormatException($"{source}: not valid JSON: {e.Message}", e); }
        foreach (var (key, _) in j)
            if (!JsonKeys.Contains(key))
                throw new DataFormatException($"{source}: unknown key \"{key}\" (known: {string.Join(", ", JsonKeys)}).");
        string Text(string key, string fallback) => j[key] switch
        {
            null when !j.ContainsKey(key) => fallback,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            _ => throw new DataFormatException($"{source}: \"{key}\" must be a string."),
        };
        var defaults = new PromptTemplate();
        var verbalizer = new LabelVerbalizer();
        switch (j["labels"])
        {
            case null when !j.ContainsKey("labels"):
                break;
            case JsonObject labels:
                foreach (var (label, text) in labels)
                {
                    if (text is not JsonValue v || !v.TryGetValue<string>(out var continuation))
                        throw new DataFormatException($"{source}: label \"{label}\" must map to a string.");
                    try { verbalizer = verbalizer.Map(label, continuation); }
                    catch (ArgumentException e) { throw new DataFormatException($"{source}: {e.Message}", e); }
                }
                break;
            default:
                throw new DataFormatException($"{source}: \"labels\" must be an object mapping each label to its text.");
        }
        return new PromptTemplate
        {
            Instruction = Text("instruction", defaults.Instruction),
            InputPrefix = Text("input_prefix", defaults.InputPrefix),
            InputOutputSeparator = Text("input_output_separator", defaults.InputOutputSeparator),
            OutputPrefix = Text("output_prefix", defaults.OutputPrefix),
            ExampleSeparator = Text("example_separator", defaults.ExampleSeparator),
            Verbalizer = verbalizer,
        };
    }
}
