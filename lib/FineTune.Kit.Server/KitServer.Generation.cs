using System.Text.Json;
using System.Threading.Channels;
using System.Text.Json.Nodes;
using FineTune.Kit.Data;
using FineTune.Kit.Models;
using FineTune.Kit.Serving;
using FineTune.Kit.Text;
using Microsoft.AspNetCore.Http;

namespace FineTune.Kit.Server;

public sealed partial class KitServer
{
    /// <summary>The sampling fields shared by chat and text completions.</summary>
    private sealed record Sampling(int? MaxTokens, double Temperature, double TopP, int Seed, IReadOnlyList<string> Stop, int N,
        bool Stream, bool IncludeUsage);

    /// <summary>One finished choice.</summary>
    private sealed record Choice(int Index, long[] Ids, string Text, string FinishReason);

    private static Sampling ReadSampling(JsonObject body)
    {
        var maxTokens = JsonFields.Integer(body, "max_completion_tokens", 1, int.MaxValue) ?? JsonFields.Integer(body, "max_tokens", 1, int.MaxValue);
        var stream = JsonFields.Bool(body, "stream");
        var includeUsage = false;
        if (body["stream_options"] is JsonObject streamOptions) includeUsage = JsonFields.Bool(streamOptions, "include_usage");
        var topP = JsonFields.Number(body, "top_p", 0, 1) ?? 1.0;
        if (topP <= 0) throw ApiError.BadValue("top_p", "'top_p' must be greater than 0");
        return new Sampling((int?)maxTokens, JsonFields.Number(body, "temperature", 0, 2) ?? 1.0, topP,
            (int?)JsonFields.Integer(body, "seed", int.MinValue, int.MaxValue) ?? Random.Shared.Next(),
            JsonFields.Strings(body, "stop", 4), (int)(JsonFields.Integer(body, "n", 1, 16) ?? 1), stream, includeUsage);
    }

    /// <summary>Renders the messages with the model's chat template and continues the assistant turn.</summary>
    private async Task Chat(HttpContext ctx)
    {
        var state = State(ctx);
        var body = await ReadBody(ctx);
        var adapter = ResolveModel(body, state);
        var messages = ReadMessages(body);
        state.RawText = messages.LastOrDefault(m => m.Role == "user")?.Content ?? messages[^1].Content;
        var sampling = ReadSampling(body);
        var prompt = _host.ChatTemplate.Encode(_host.Tokenizer, messages, addGenerationPrompt: true).Ids.Select(i => (long)i).ToArray();
        var generation = Prepare(ctx, state, adapter, [prompt], sampling, _host.ChatStopTokens, _host.ChatStopStrings, "messages");
        var envelope = new Envelope("chatcmpl-" + Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), state.Model!);
        if (!sampling.Stream)
        {
            var choices = await Finish(ctx, state, generation);
            var array = new JsonArray();
            foreach (var c in choices)
                array.Add(new JsonObject
                {
                    ["index"] = c.Index, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = c.Text },
                    ["logprobs"] = null, ["finish_reason"] = c.FinishReason,
                });
            await Json(ctx, envelope.Of("chat.completion", array, Usage(state)));
            return;
        }
        JsonObject Chunk(int index, JsonObject delta, string? finish) => envelope.Of("chat.completion.chunk",
            new JsonArray(new JsonObject { ["index"] = index, ["delta"] = delta, ["logprobs"] = null, ["finish_reason"] = finish }));
        await Stream(ctx, state, generation, sampling,
            opening: index => Chunk(index, new JsonObject { ["role"] = "assistant", ["content"] = "" }, null),
            piece: (index, text) => Chunk(index, new JsonObject { ["content"] = text }, null),
            ending: (index, finish) => Chunk(index, new JsonObject(), finish),
            usage: () => envelope.Of("chat.completion.chunk", [], Usage(state)));
    }

    /// <summary>Continues a plain-text prompt (or each of several).</summary>
    private async Task Completions(HttpContext ctx)
    {
        var state = State(ctx);
        var body = await ReadBody(ctx);
        var adapter = ResolveModel(body, state);
        var prompts = JsonFields.Strings(body, "prompt", 16, required: true);
        if (prompts.Any(p => p.Length == 0)) throw ApiError.BadValue("prompt", "'prompt' must not be empty");
        state.RawText = prompts[0];
        var sampling = ReadSampling(body);
        var ids = prompts.Select(p => _host.Tokenizer.Encode(p).Select(i => (long)i).ToArray()).ToList();
        if (ids.Any(p => p.Length == 0)) throw ApiError.BadValue("prompt", "'prompt' must encode to at least one token");
        var generation = Prepare(ctx, state, adapter, ids, sampling, [], [], "prompt");
        var envelope = new Envelope("cmpl-" + Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), state.Model!);
        if (!sampling.Stream)
        {
            var choices = await Finish(ctx, state, generation);
            var array = new JsonArray();
            foreach (var c in choices)
                array.Add(new JsonObject { ["text"] = c.Text, ["index"] = c.Index, ["logprobs"] = null, ["finish_reason"] = c.FinishReason });
            await Json(ctx, envelope.Of("text_completion", array, Usage(state)));
            return;
        }
        JsonObject Chunk(int index, string text, string? finish) => envelope.Of("text_completion",
            new JsonArray(new JsonObject { ["text"] = text, ["index"] = index, ["logprobs"] = null, ["finish_reason"] = finish }));
        await Stream(ctx, state, generation, sampling, opening: null,
            piece: (index, text) => Chunk(index, text, null),
            ending: (index, finish) => Chunk(index, "", finish),
            usage: () => envelope.Of("text_completion", [], Usage(state)));
    }

    /// <summary>The fields every completion response and chunk of one request shares (OpenAI's shape).</summary>
    private sealed record Envelope(string Id, long Created, string Model)
    {
        public JsonObject Of(string kind, JsonArray choices, JsonObject? usage = null)
        {
            var o = new JsonObject { ["id"] = Id, ["object"] = kind, ["created"] = Created, ["model"] = Model, ["choices"] = choices };
            if (usage is not null) o["usage"] = usage;
            return o;
        }
    }

    private static JsonObject Usage(RequestState state) => new()
    {
        ["prompt_tokens"] = state.PromptTokens, ["completion_tokens"] = state.CompletionTokens,
        ["total_tokens"] = state.PromptTokens + state.CompletionTokens,
    };

    private static List<ChatMessage> ReadMessages(JsonObject body)
    {
        if (body["messages"] is not JsonArray array)
            throw new ApiError(400, body["messages"] is null ? "you must provide 'messages'" : "'messages' must be an array",
                param: "messages", code: body["messages"] is null ? "missing_required_parameter" : "invalid_value");
        if (array.Count == 0) throw ApiError.BadValue("messages", "'messages' must hold at least one message");
        var messages = new List<ChatMessage>();
        for (var i = 0; i < array.Count; i++)
        {
            var param = $"messages[{i}]";
            if (array[i] is not JsonObject m) throw ApiError.BadValue(param, $"'{param}' must be an object");
            var role = JsonFields.String(m, "role") ?? throw ApiError.BadValue(param + ".role", $"'{param}.role' is missing");
            role = role switch
            {
                "system" or "developer" => "system",
                "user" or "assistant" => role,
                _ => throw ApiError.BadValue(param + ".role", $"'{param}.role' must be system, developer, user or assistant, got '{role}'"),
            };
            messages.Add(new ChatMessage(role, ReadContent(m["content"], param + ".content")));
        }
        return messages;
    }

    /// <summary>A message's content: a string, or an array of text parts.</summary>
    private static string ReadContent(JsonNode? content, string param)
    {
        if (content is null) throw ApiError.BadValue(param, $"'{param}' is missing (tool calls are not supported)");
        if (content.GetValueKind() == JsonValueKind.String) return content.GetValue<string>();
        if (content is JsonArray parts)
        {
            var text = new System.Text.StringBuilder();
            foreach (var part in parts)
            {
                if (part is not JsonObject p || JsonFields.String(p, "type") != "text" || JsonFields.String(p, "text") is not { } t)
                    throw ApiError.BadValue(param, $"'{param}' may hold only text parts ({{\"type\": \"text\", \"text\": ...}})");
                text.Append(t);
            }
            return text.ToString();
        }
        throw ApiError.BadValue(param, $"'{param}' must be a string or an array of text parts");
    }

    /// <summary>A checked generation request: the job for the model (one row per prompt and choice) and how its text ends.</summary>
    private sealed record PendingGeneration(GenerateJob Job, int MaxTokens, IReadOnlyList<string> Stops, Channel<(int Row, long Token)>? Tokens)
        : IDisposable
    {
        public required CancellationTokenSource Timeout { get; init; }
        public void Dispose() => Timeout.Dispose();
    }

    /// <summary>Checks the context length and builds the job: the prompts n times each, tokens streamed when asked.</summary>
    private PendingGeneration Prepare(HttpContext ctx, RequestState state, string? adapter, IReadOnlyList<long[]> prompts,
        Sampling sampling, IReadOnlyList<long> stopTokens, IReadOnlyList<string> stopStrings, string promptParam)
    {
        var context = _host.ContextLength;
        var longest = prompts.Max(p => p.Length);
        state.PromptTokens = prompts.Sum(p => p.Length);
        if (longest >= context)
            throw new ApiError(400, $"This model's maximum context length is {context} tokens, but the prompt has {longest} tokens.",
                param: promptParam, code: "context_length_exceeded");
        var maxTokens = sampling.MaxTokens ?? Math.Min(_options.DefaultMaxTokens, context - longest);
        if (longest + maxTokens > context)
            throw new ApiError(400, $"This model's maximum context length is {context} tokens; the prompt has {longest} tokens and max_tokens asks for {maxTokens} more.",
                param: "max_tokens", code: "context_length_exceeded");

        var options = new GenerationOptions
        {
            MaxNewTokens = maxTokens, Temperature = sampling.Temperature, TopP = sampling.TopP, Seed = sampling.Seed,
            StopTokens = stopTokens,
        };
        var rows = prompts.SelectMany(p => Enumerable.Repeat<IReadOnlyList<long>>(p, sampling.N)).ToList();
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        var tokens = sampling.Stream ? Channel.CreateUnbounded<(int Row, long Token)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true }) : null;
        var job = new GenerateJob(adapter, rows, options, timeout.Token)
        {
            OnToken = tokens is null ? null : (row, token) => tokens.Writer.TryWrite((row, token)),
        };
        var stops = sampling.Stop.Concat(stopStrings).Where(s => s.Length > 0).ToList();
        return new PendingGeneration(job, maxTokens, stops, tokens) { Timeout = timeout };
    }

    /// <summary>Queues the job, waits for it and finishes every choice (cut at the first stop sequence).</summary>
    private async Task<List<Choice>> Finish(HttpContext ctx, RequestState state, PendingGeneration generation)
    {
        using var _ = generation;
        var job = generation.Job;
        await Enqueue(ctx, job, generation.Timeout);
        var choices = new List<Choice>();
        for (var i = 0; i < job.Result.Count; i++)
        {
            var ids = job.Result[i];
            var text = _host.Tokenizer.Decode(ids.Select(t => (int)t), skipSpecialTokens: true);
            var cut = generation.Stops.Select(s => text.IndexOf(s, StringComparison.Ordinal)).Where(at => at >= 0).DefaultIfEmpty(-1).Min();
            string finish;
            if (cut >= 0) { text = text[..cut]; finish = "stop"; }
            else finish = ids.Length >= generation.MaxTokens ? "length" : "stop";
            choices.Add(new Choice(i, ids, text, finish));
        }
        state.CompletionTokens = choices.Sum(c => c.Ids.Length);
        state.FinishReason = choices.Count > 0 ? choices[0].FinishReason : null;
        return choices;
    }

    /// <summary>
    /// Server-sent events as the model generates: each token's text is sent as soon as it is chosen (held back only
    /// while it may be the start of a stop sequence or ends inside a UTF-8 character), each choice ends with its
    /// finish reason, then usage when asked, then [DONE]. A choice that reaches a stop sequence stops there; when every
    /// choice has, the model stops generating for this request.
    /// </summary>
    private async Task Stream(HttpContext ctx, RequestState state, PendingGeneration generation, Sampling sampling,
        Func<int, JsonObject>? opening, Func<int, string, JsonObject> piece, Func<int, string, JsonObject> ending, Func<JsonObject> usage)
    {
        using var owned = generation;
        var job = generation.Job;
        var tokens = generation.Tokens!;
        if (!_host.TryEnqueue(job))
        {
            Metrics.Rejected();
            throw QueueFull();
        }
        _ = job.Done.Task.ContinueWith(t => tokens.Writer.TryComplete(t.IsFaulted ? t.Exception!.InnerException : null), TaskScheduler.Default);
        generation.Timeout.CancelAfter(_options.RequestTimeout);
        await StartStream(ctx);
        var decoders = job.Prompts.Select(_ => new StreamingDecoder(_host.Tokenizer, generation.Stops)).ToArray();
        try
        {
            if (opening is not null)
                for (var row = 0; row < decoders.Length; row++) await Event(ctx, opening(row));
            await foreach (var (row, token) in tokens.Reader.ReadAllAsync(generation.Timeout.Token))
            {
                // ReadAllAsync checks the token only when it has to wait: a timeout must stop buffered tokens too
                generation.Timeout.Token.ThrowIfCancellationRequested();
                var decoder = decoders[row];
                if (decoder.Stopped) continue;
                var text = decoder.Push(token);
                if (text.Length > 0) await Event(ctx, piece(row, text));
                if (!decoder.Stopped) continue;
                await Event(ctx, ending(row, "stop"));
                if (decoders.All(d => d.Stopped)) job.Satisfied = true;
            }
            await job.Done.Task;
        }
        catch (OperationCanceledException) when (!ctx.RequestAborted.IsCancellationRequested)
        {
            state.Error = $"not answered within {_options.RequestTimeout.TotalSeconds:0.#} seconds";
            await Event(ctx, new ApiError(504, $"The request was not answered within {_options.RequestTimeout.TotalSeconds:0.#} seconds.",
                "server_error", code: "timeout").ToJson());
            return;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // the status line is sent: the failure goes to the client as an error event, as OpenAI's streams do
            state.Error = $"{e.GetType().Name}: {e.Message}";
            await Event(ctx, new ApiError(500, $"the server failed: {e.Message}", "server_error").ToJson());
            return;
        }
        for (var row = 0; row < decoders.Length; row++)
        {
            var decoder = decoders[row];
            if (decoder.Stopped) continue;
            var rest = decoder.Flush();
            if (rest.Length > 0) await Event(ctx, piece(row, rest));
            await Event(ctx, ending(row, decoder.Ids.Count >= generation.MaxTokens ? "length" : "stop"));
        }
        state.CompletionTokens = decoders.Sum(d => d.Ids.Count);
        state.FinishReason = decoders.Length == 0 ? null
            : decoders[0].Stopped || decoders[0].Ids.Count < generation.MaxTokens ? "stop" : "length";
        if (sampling.IncludeUsage) await Event(ctx, usage());
        await Done(ctx);
    }

    private ApiError QueueFull() => new(503, $"The server is busy: {_host.Capacity} requests are already waiting. Retry after 1 second.",
        "server_error", code: "queue_full");

    /// <summary>Puts a job in the queue (503 when full) and waits for it (504 after the request timeout).</summary>
    private async Task Enqueue(HttpContext ctx, ModelJob job, CancellationTokenSource timeout)
    {
        if (!_host.TryEnqueue(job))
        {
            Metrics.Rejected();
            throw QueueFull();
        }
        try
        {
            await job.Done.Task.WaitAsync(_options.RequestTimeout, ctx.RequestAborted);
        }
        catch (TimeoutException)
        {
            timeout.Cancel();
            throw new ApiError(504, $"The request was not answered within {_options.RequestTimeout.TotalSeconds:0.#} seconds.", "server_error", code: "timeout");
        }
    }

    private static async Task StartStream(HttpContext ctx)
    {
        ctx.Response.ContentType = "text/event-stream";
        ctx.Response.Headers.CacheControl = "no-cache";
        await ctx.Response.StartAsync();
    }

    private static async Task Event(HttpContext ctx, JsonObject data)
    {
        await ctx.Response.WriteAsync("data: " + data.ToJsonString() + "\n\n");
        await ctx.Response.Body.FlushAsync();
    }

    private static async Task Done(HttpContext ctx)
    {
        await ctx.Response.WriteAsync("data: [DONE]\n\n");
        await ctx.Response.Body.FlushAsync();
    }

    /// <summary>Text → label and probabilities with the prompt.json saved beside the model or adapter.</summary>
    private async Task Classify(HttpContext ctx)
    {
        var state = State(ctx);
        var body = await ReadBody(ctx);
        var adapter = ResolveModel(body, state);
        var inputs = JsonFields.Strings(body, "input", 64, required: true);
        state.RawText = inputs[0];
        var template = _host.PromptFor(state.Model!)
            ?? throw new ApiError(400, $"The model '{state.Model}' cannot classify: its folder has no prompt.json (ftk train saves one beside the adapter).",
                param: "model", code: "no_prompt");
        state.PromptTokens = inputs.Sum(t => _host.Tokenizer.Encode(t).Count);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        var job = new ClassifyJob(adapter, template, inputs, timeout.Token);
        await Enqueue(ctx, job, timeout);
        var data = new JsonArray();
        for (var i = 0; i < job.Result.Count; i++)
        {
            var r = job.Result[i];
            var probabilities = new JsonObject();
            foreach (var (label, p) in r.Probabilities) probabilities[label] = p;
            data.Add(new JsonObject { ["object"] = "classification", ["index"] = i, ["label"] = r.Label, ["probabilities"] = probabilities });
        }
        state.Label = job.Result[0].Label;
        state.Probability = job.Result[0].Probabilities[state.Label];
        await Json(ctx, new JsonObject
        {
            ["object"] = "list", ["model"] = state.Model, ["data"] = data,
            ["usage"] = new JsonObject { ["prompt_tokens"] = state.PromptTokens, ["total_tokens"] = state.PromptTokens },
        });
    }
}
