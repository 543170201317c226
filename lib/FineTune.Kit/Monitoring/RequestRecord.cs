namespace FineTune.Kit.Monitoring;

/// <summary>
/// One served request as the request log keeps it. <see cref="Text"/> is already redacted (or null when the log keeps
/// no text); the length fields are measured on the original input so drift statistics work even without text.
/// </summary>
public sealed record RequestRecord
{
    /// <summary>When the request arrived (UTC).</summary>
    public DateTimeOffset Time { get; init; }
    /// <summary>The endpoint path, e.g. /v1/chat/completions.</summary>
    public string Endpoint { get; init; } = "";
    /// <summary>The model name the request asked for (base or adapter), when it named one.</summary>
    public string? Model { get; init; }
    /// <summary>The adapter applied, or null for the base model.</summary>
    public string? Adapter { get; init; }
    /// <summary>HTTP status of the answer.</summary>
    public int Status { get; init; }
    /// <summary>Tokens in the prompt (0 when the request failed before tokenising).</summary>
    public int PromptTokens { get; init; }
    /// <summary>Tokens generated over all choices.</summary>
    public int CompletionTokens { get; init; }
    /// <summary>Time from arrival to the end of the answer, in milliseconds.</summary>
    public double LatencyMs { get; init; }
    /// <summary>stop, length, or null.</summary>
    public string? FinishReason { get; init; }
    /// <summary>For /v1/classify: the predicted label of the first input.</summary>
    public string? Label { get; init; }
    /// <summary>For /v1/classify: that label's probability.</summary>
    public double? Probability { get; init; }
    /// <summary>The input text after PII redaction, or null.</summary>
    public string? Text { get; init; }
    /// <summary>Characters of the original input.</summary>
    public int InputChars { get; init; }
    /// <summary>Whitespace-separated words of the original input.</summary>
    public int InputWords { get; init; }
    /// <summary>The error message when the request failed.</summary>
    public string? Error { get; init; }
}

/// <summary>What the request log keeps of the input text.</summary>
public enum LogTextMode
{
    /// <summary>No text at all (lengths only).</summary>
    None,
    /// <summary>The text with e-mail addresses, phone numbers, cards, IBANs and IP addresses replaced by placeholders.</summary>
    Redacted,
}
