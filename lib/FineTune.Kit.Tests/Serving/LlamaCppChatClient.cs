using System.Runtime.CompilerServices;
using FineTune.Kit.Text;
using Microsoft.Extensions.AI;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace FineTune.Kit.Tests.Serving;

/// <summary>
/// A second IChatClient, over an exported GGUF file run by llama.cpp (greedy only): the same chat template renders the
/// messages, llama.cpp tokenises, predicts and detokenises. It shows an exported model answering as the kit does.
/// </summary>
internal sealed class LlamaCppChatClient(string ggufPath, ChatTemplate template) : IChatClient
{
    private readonly LlamaCpp cpp = LlamaCpp.Load(ggufPath);

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<AiChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var text = new System.Text.StringBuilder();
        await foreach (var update in GetStreamingResponseAsync(messages, options, cancellationToken)) text.Append(update.Text);
        return new ChatResponse(new AiChatMessage(ChatRole.Assistant, text.ToString()));
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<AiChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (options?.Temperature is > 0) throw new NotSupportedException("this client decodes greedily");
        var rendered = template.Render(messages.Select(m => new FineTune.Kit.Data.ChatMessage(m.Role.Value, m.Text)).ToList(), addGenerationPrompt: true);
        var ids = cpp.GreedyUntilEnd(cpp.Tokenize(rendered.Text), options?.MaxOutputTokens ?? 256);
        // detokenised as a whole and handed out in one piece per token boundary that ends on a whole character
        string emitted = "";
        for (int n = 1; n <= ids.Count; n++)
        {
            var text = cpp.Detokenize(ids.Take(n).ToList());
            if (text.EndsWith('\uFFFD') && n < ids.Count) continue;
            if (text.Length > emitted.Length) yield return new ChatResponseUpdate(ChatRole.Assistant, text[emitted.Length..]);
            emitted = text;
            await Task.Yield();
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose() => cpp.Dispose();
}
