namespace FineTune.Kit.Data;

/// <summary>The row layouts the kit understands.</summary>
public enum DatasetShape
{
    /// <summary>No known layout was recognised.</summary>
    Unknown,

    /// <summary><c>text</c> with an optional <c>label</c> (classification, language modelling).</summary>
    Text,

    /// <summary><c>prompt</c> and <c>completion</c>.</summary>
    PromptCompletion,

    /// <summary>Chat <c>messages</c> in the OpenAI fine-tuning format.</summary>
    Chat,

    /// <summary>Preference pairs: <c>prompt</c>, <c>chosen</c>, <c>rejected</c>.</summary>
    Preference,
}

/// <summary>A text row with an optional label.</summary>
public sealed record TextRow(string Text, string? Label, int Line);

/// <summary>A prompt/completion row.</summary>
public sealed record PromptCompletionRow(string Prompt, string Completion, int Line);

/// <summary>A chat conversation.</summary>
public sealed record ChatRow(IReadOnlyList<ChatMessage> Messages, int Line);

/// <summary>A preference row: the prompt, the preferred and the rejected answer.</summary>
public sealed record PreferenceRow(string Prompt, string Chosen, string Rejected, int Line);
