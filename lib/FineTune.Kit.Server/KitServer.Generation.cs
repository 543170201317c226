using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Data;
using FineTune.Kit.Models;
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
        var choices = await Generate(ctx, state, adapter, [prompt], sampling, _host.ChatStopTokens, _host.ChatStopStrings, "messages");
        var id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var model = state.Model!;
        if (!sampling.Stream)
        {
            var array = new JsonArray();
            foreach (var c in choices)
                array.Add(new JsonObject
                {
                    ["index"] = c.Index, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = c.Text },
                    ["logprobs"] = null, ["finish_reason"] = c.FinishReason,
                });
            await Json(ctx, new JsonObject
            {
                ["id"] = id, ["object"] = "chat.completion", ["created"] = created, ["model"] = model, ["choices"] = array,
                ["usage"] = Usage(state),
            });
            return;
        }
        await StartStream(ctx);
        JsonObject Chunk(int index, JsonObject delta, string? finish) => new()
        {
            ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = created, ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject { ["index"] = index, ["delta"] = delta, ["logprobs"] = null, ["finish_reason"] = finish }),
        };
        foreach (var c in choices)
        {
            await Event(ctx, Chunk(c.Index, new JsonObject { ["role"] = "assistant", ["content"] = "" }, null));
            foreach (var piece in Pieces(c))
                await Event(ctx, Chunk(c.Index, new JsonObject { ["content"] = piece }, null));
            await Event(ctx, Chunk(c.Index, new JsonObject(), c.FinishReason));
        }
        if (sampling.IncludeUsage)
            await Event(ctx, new JsonObject
            {
                ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = created, ["model"] = model,
                ["choices"] = new JsonArray(), ["usage"] = Usage(state),
            });
        await Done(ctx);
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
        var choices = await Generate(ctx, state, adapter, ids, sampling, [], [], "prompt");
        var id = "cmpl-" + Guid.NewGuid().ToString("N");
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var model = state.Model!;
        if (!sampling.Stream)
        {
            var array = new JsonArray();
            foreach (var c in choices)
                array.Add(new JsonObject { ["text"] = c.Text, ["index"] = c.Index, ["logprobs"] = null, ["finish_reason"] = c.FinishReason });
            await Json(ctx, new JsonObject
            {
                ["id"] = id, ["object"] = "text_completion", ["created"] = created, ["model"] = model, ["choices"] = array,
                ["usage"] = Usage(state),
            });
            return;
        }
        await StartStream(ctx);
        JsonObject Chunk(int index, string text, string? finish) => new()
        {
            ["id"] = id, ["object"] = "text_completion", ["created"] = created, ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject { ["text"] = text, ["index"] = index, ["logprobs"] = null, ["finish_reason"] = finish }),
        };
        foreach (var c in choices)
        {
            foreach (var piece in Pieces(c)) await Event(ctx, Chunk(c.Index, piece, null));
            await Event(ctx, Chunk(c.Index, "", c.FinishReason));
        }
        if (sampling.IncludeUsage)
            await Event(ctx, new JsonObject
            {
                ["id"] = id, ["object"] = "text_completion", ["created"] = created, ["model"] = model,
                ["choices"] = new JsonArray(), ["usage"] = Usage(state),
            });
        await Done(ctx);
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

    /// <summary>Checks the context length, queues the prompts (n times each) and finishes every choice.</summary>
    private async Task<List<Choice>> Generate(HttpContext ctx, RequestState state, string? adapter, IReadOnlyList<long[]> prompts,
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
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        var job = new GenerateJob(adapter, rows, options, timeout.Token);
        await Enqueue(ctx, job, timeout);

        var stops = sampling.Stop.Concat(stopStrings).Where(s => s.Length > 0).ToList();
        var choices = new List<Choice>();
        for (var i = 0; i < job.Result.Count; i++)
        {
            var ids = job.Result[i];
            var text = _host.Tokenizer.Decode(ids.Select(t => (int)t), skipSpecialTokens: true);
            var cut = stops.Select(s => text.IndexOf(s, StringComparison.Ordinal)).Where(at => at >= 0).DefaultIfEmpty(-1).Min();
            string finish;
            if (cut >= 0) { text = text[..cut]; finish = "stop"; }
            else finish = ids.Length >= maxTokens ? "length" : "stop";
            choices.Add(new Choice(i, ids, text, finish));
        }
        state.CompletionTokens = choices.Sum(c => c.Ids.Length);
        state.FinishReason = choices.Count > 0 ? choices[0].FinishReason : null;
        return choices;
    }

    /// <summary>Puts a job in the queue (503 when full) and waits for it (504 after the request timeout).</summary>
    private async Task Enqueue(HttpContext ctx, ModelJob job, CancellationTokenSource timeout)
    {
        if (!_host.TryEnqueue(job))
        {
            Metrics.Rejected();
            throw new ApiError(503, $"The server is busy: {_host.Capacity} requests are already waiting. Retry after 1 second.",
                "server_error", code: "queue_full");
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

    /// <summary>
    /// The text of a choice cut into one piece per token, so that the pieces join to exactly the choice's text: each
    /// piece is what decoding one more token adds (held back while the token ends inside a UTF-8 character).
    /// </summary>
    private IEnumerable<string> Pieces(Choice choice)
    {
        var emitted = 0;
        for (var n = 1; n <= choice.Ids.Length && emitted < choice.Text.Length; n++)
        {
            var prefix = _host.Tokenizer.Decode(choice.Ids.Take(n).Select(t => (int)t), skipSpecialTokens: true);
            if (prefix.EndsWith('\uFFFD')) continue;
            var upTo = Math.Min(prefix.Length, choice.Text.Length);
            if (upTo <= emitted || string.CompareOrdinal(prefix, 0, choice.Text, 0, upTo) != 0) continue;
            yield return choice.Text[emitted..upTo];
            emitted = upTo;
        }
        if (emitted < choice.Text.Length) yield return choice.Text[emitted..];
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
