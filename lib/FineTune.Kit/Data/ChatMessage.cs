namespace FineTune.Kit.Data;

/// <summary>One turn of a conversation.</summary>
/// <param name="Role">"system", "user" or "assistant" (others are rendered as given).</param>
/// <param name="Content">What was said.</param>
/// <param name="Name">Optional speaker name (OpenAI's chat format allows one).</param>
public sealed record ChatMessage(string Role, string Content, string? Name = null)
{
    /// <summary>A system message.</summary>
    public static ChatMessage System(string content) => new("system", content);
    /// <summary>A user message.</summary>
    public static ChatMessage User(string content) => new("user", content);
    /// <summary>An assistant message.</summary>
    public static ChatMessage Assistant(string content) => new("assistant", content);
}
