using System.Runtime.CompilerServices;
using System.Threading.Channels;
using FineTune.Kit.Models;
using FineTune.Kit.Text;
using Microsoft.Extensions.AI;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;
using KitChatMessage = FineTune.Kit.Data.ChatMessage;

namespace FineTune.Kit.Serving;

/// <summary>
/// The kit's model as a Microsoft.Extensions.AI <see cref="IChatClient"/>: messages are rendered with the model's chat
/// template and continued with <see cref="CausalLM.Generate(IReadOnlyList{IReadOnlyList{long}}, GenerationOptions?)"/>,
/// so the answer is the one Generate gives. <see cref="ChatOptions"/> map to generation options (MaxOutputTokens,
/// Temperature, TopP, TopK, Seed, StopSequences). Requests are served one at a time; the client does not own the model.
/// </summary>
public sealed class KitChatClient : IChatClient
{
    private readonly CausalLM model;
    private readonly TextTokenizer tokenizer;
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly long[] turnEndIds;

    /// <summary>Wraps a model (with its tokenizer); <paramref name="template"/> defaults to the model's own chat template.</summary>
    /// <param name="model">The model; it stays owned by the caller.</param>
    /// <param name="template">How to render messages; null reads the tokenizer's chat_template.</param>
    /// <param name="modelId">The id reported in responses (defaults to the model folder's name).</param>
    /// <param name="defaultMaxOutputTokens">Tokens to generate when the request does not say.</param>
    public KitChatClient(CausalLM model, ChatTemplate? template = null, string? modelId = null, int defaultMaxOutputTokens = 256)
    {
        if (defaultMaxOutputTokens < 1) throw new ArgumentOutOfRangeException(nameof(defaultMaxOutputTokens), defaultMaxOutputTokens, "must be at least 1");
        this.model = model;
        tokenizer = model.RequireTokenizer();
        Template = template ?? ModelChatTemplate.For(tokenizer);
        DefaultMaxOutputTokens = defaultMaxOutputTokens;
        ModelId = modelId ?? (model.SourceDirectory is { } d ? Path.GetFileName(Path.GetFullPath(d).TrimEnd(Path.DirectorySeparatorChar)) : "model");
        // the token that closes an assistant turn ends the answer, like EOS does
        turnEndIds = Template.SpecialTokens.Where(t => t is "<|im_end|>" or "<|eot_id|>")
            .Select(t => tokenizer.TokenToId(t)).OfType<int>().Select(i => (long)i).ToArray();
    }

    /// <summary>The chat template messages are rendered with.</summary>
    public ChatTemplate Template { get; }

    /// <summary>The model id reported in responses.</summary>
    public string ModelId { get; }

    /// <summary>Tokens generated when <see cref="ChatOptions.MaxOutputTokens"/> is not given.</summary>
    public int DefaultMaxOutputTokens { get; }

    /// <summary>The prompt ids a conversation is rendered to (the template's generation prompt appended).</summary>
    public IReadOnlyList<int> PromptIds(IEnumerable<AiChatMessage> messages) =>
        Template.Encode(tokenizer, messages.Select(ToKit).ToList(), addGenerationPrompt: true).Ids;

    /// <summary>The generation options a request's <see cref="ChatOptions"/> map to.</summary>
    /// <exception cref="ArgumentException">A value is out of range (negative temperature, top_p outside (0, 1], …).</exception>
    public GenerationOptions ToGenerationOptions(ChatOptions? options)
    {
        int maxTokens = options?.MaxOutputTokens ?? DefaultMaxOutputTokens;
        if (maxTokens < 1) throw new ArgumentException($"MaxOutputTokens must be at least 1, got {maxTokens}.");
        double temperature = options?.Temperature ?? 0;
        if (!(temperature >= 0) || double.IsInfinity(temperature)) throw new ArgumentException($"Temperature must be 0 or more, got {temperature}.");
        double topP = options?.TopP ?? 1;
        if (!(topP > 0 && topP <= 1)) throw new ArgumentException($"TopP must be in (0, 1], got {topP}.");
        int topK = options?.TopK ?? 0;
        if (topK < 0) throw new ArgumentException($"TopK must be 0 or more, got {topK}.");
        return new GenerationOptions
        {
            MaxNewTokens = maxTokens, Temperature = temperature, TopP = topP, TopK = topK, Seed = options?.Seed is { } seed ? SeedOf(seed) : Seeds.Default,
            StopTokens = turnEndIds,
        };
    }

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<AiChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var text = new System.Text.StringBuilder();
        ChatResponseUpdate? last = null;
        UsageDetails? usage = null;
        await foreach (var update in GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false))
        {
            text.Append(update.Text);
            usage ??= update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details;
            last = update;
        }
        return new ChatResponse(new AiChatMessage(ChatRole.Assistant, text.ToString()))
        {
            ModelId = ModelId, FinishReason = last?.FinishReason, ResponseId = last?.ResponseId, CreatedAt = last?.CreatedAt, Usage = usage,
        };
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<AiChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var prompt = PromptIds(messages);
        var generation = ToGenerationOptions(options);
        var stops = (options?.StopSequences ?? []).Where(s => s.Length > 0).ToArray();
        if (prompt.Count + 1 > model.Config.MaxPositions)
            throw new ArgumentException($"the prompt has {prompt.Count} tokens; the model takes at most {model.Config.MaxPositions}.");
        var responseId = Guid.NewGuid().ToString("N");
        var created = DateTimeOffset.UtcNow;

        // generation runs on a worker; each step's token comes through a channel as it is chosen
        var channel = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var stopRequested = false;
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        Task worker;
        try
        {
            worker = Task.Run(() =>
            {
                try
                {
                    model.Generate([prompt.Select(i => (long)i).ToList()], generation with
                    {
                        OnStep = chosen =>
                        {
                            if (chosen[0] is { } id) channel.Writer.TryWrite(id);
                            return !Volatile.Read(ref stopRequested) && !cancellationToken.IsCancellationRequested;
                        },
                    });
                    channel.Writer.TryComplete();
                }
                catch (Exception e) { channel.Writer.TryComplete(e); }
            }, CancellationToken.None);
        }
        catch
        {
            gate.Release();
            throw;
        }

        try
        {
            var decoder = new StreamingDecoder(tokenizer, stops);
            ChatFinishReason? finish = null;
            await foreach (var id in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                // ReadAllAsync checks the token only when it has to wait; tokens already buffered would still flow
                cancellationToken.ThrowIfCancellationRequested();
                var ready = decoder.Push(id);
                if (ready.Length > 0) yield return Update(ready, responseId, created);
                if (decoder.Stopped)
                {
                    finish = ChatFinishReason.Stop;
                    Volatile.Write(ref stopRequested, true);
                    break;
                }
            }
            await worker.ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            var ids = decoder.Ids;
            if (finish is null)
            {
                // whatever was held back as a possible start of a stop sequence is text after all
                var rest = decoder.Flush();
                if (rest.Length > 0) yield return Update(rest, responseId, created);
                // out of tokens or out of positions is a cut, anything else the model ending its turn
                finish = ids.Count >= generation.MaxNewTokens || prompt.Count + ids.Count >= model.Config.MaxPositions
                    ? ChatFinishReason.Length : ChatFinishReason.Stop;
            }
            var final = new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(new UsageDetails
            {
                InputTokenCount = prompt.Count, OutputTokenCount = ids.Count, TotalTokenCount = prompt.Count + ids.Count,
            })])
            {
                FinishReason = finish, ResponseId = responseId, MessageId = responseId, ModelId = ModelId, CreatedAt = created,
            };
            yield return final;
        }
        finally
        {
            Volatile.Write(ref stopRequested, true);
            try { await worker.ConfigureAwait(false); } catch { /* already reported through the channel */ }
            gate.Release();
        }
    }

    /// <summary>ChatOptions carries a 64-bit seed; the kit's seeds are int, so a seed outside int's range is refused.</summary>
    private static int SeedOf(long seed) => seed is >= int.MinValue and <= int.MaxValue ? (int)seed
        : throw new ArgumentOutOfRangeException(nameof(ChatOptions.Seed), seed, "The seed must fit in a 32-bit integer.");

    private ChatResponseUpdate Update(string text, string responseId, DateTimeOffset created) => new(ChatRole.Assistant, text)
    {
        ResponseId = responseId, MessageId = responseId, ModelId = ModelId, CreatedAt = created,
    };

    private static KitChatMessage ToKit(AiChatMessage m) => new(m.Role.Value, m.Text, m.AuthorName);

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("FineTune.Kit", null, ModelId)
        : serviceType.IsInstanceOfType(this) ? this
        : serviceType.IsInstanceOfType(model) ? model
        : null;

    /// <inheritdoc />
    public void Dispose() => gate.Dispose();
}
