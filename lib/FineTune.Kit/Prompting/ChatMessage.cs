namespace FineTune.Kit.Prompting;

/// <summary>One turn of a chat conversation; a model's chat template turns a list of these into its prompt text.</summary>
/// <param name="Role">"system", "user" or "assistant".</param>
/// <param name="Content">The message text.</param>
public sealed record ChatMessage(string Role, string Content)
{
    /// <summary>A system message.</summary>
    public static ChatMessage System(string content) => new("system", content);
    /// <summary>A user message.</summary>
    public static ChatMessage User(string content) => new("user", content);
    /// <summary>An assistant message.</summary>
    public static ChatMessage Assistant(string content) => new("assistant", content);
}
