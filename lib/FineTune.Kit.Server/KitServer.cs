using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Models;
using FineTune.Kit.Monitoring;
using FineTune.Kit.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FineTune.Kit.Server;

/// <summary>
/// An OpenAI-compatible HTTP server over a kit model and its LoRA adapters: /v1/models, /v1/chat/completions,
/// /v1/completions, /v1/classify, /health and /metrics. Requests wait in a bounded queue in front of the model (503 with
/// Retry-After when it is full); each /v1 request is counted in /metrics and, with a log, written as one row.
/// </summary>
/// <example>
/// <code>
/// await using var server = await KitServer.StartAsync(new ServerOptions { ModelDirectory = "data/sample/base-model", Port = 0 });
/// Console.WriteLine(server.Address);     // http://127.0.0.1:40123
/// </code>
/// </example>
public sealed partial class KitServer : IAsyncDisposable
{
    private const string StateKey = "ftk.request";
    private static readonly string[] Endpoints = ["/v1/models", "/v1/chat/completions", "/v1/completions", "/v1/classify"];
    private readonly WebApplication _app;
    private readonly ModelHost _host;
    private readonly RequestLog? _log;
    private readonly ServerOptions _options;
    private readonly byte[]? _key;
    private int _stopped;

    private KitServer(ServerOptions options, ModelHost host, RequestLog? log, WebApplication app)
    {
        _options = options;
        _host = host;
        _log = log;
        _app = app;
        _key = options.ApiKey is null ? null : Encoding.UTF8.GetBytes(options.ApiKey);
        Metrics = new ServerMetrics { QueueLength = () => host.QueueLength, QueueCapacity = host.Capacity };
    }

    /// <summary>The address the server listens on, e.g. http://127.0.0.1:8080.</summary>
    public Uri Address { get; private set; } = null!;
    /// <summary>The counters behind /metrics.</summary>
    public ServerMetrics Metrics { get; }
    /// <summary>The model names clients may use: the base model (its folder name) and each adapter.</summary>
    public IReadOnlyList<string> ModelNames => _host.ModelNames.ToList();
    internal ModelHost Host => _host;

    /// <summary>Loads the model and adapters, binds the port and starts answering.</summary>
    public static async Task<KitServer> StartAsync(ServerOptions options, CancellationToken cancel = default)
    {
        options.Validate();
        var address = options.Host == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(options.Host, out var ip) ? ip
            : throw new ArgumentException($"--host: '{options.Host}' is not an IP address (use 127.0.0.1, ::1, 0.0.0.0 or localhost)");
        var host = new ModelHost(options);
        RequestLog? log = null;
        try
        {
            log = options.LogPath is null ? null : RequestLog.Open(options.LogPath, options.LogText);
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
            builder.Logging.ClearProviders();
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.RequestTimeout + TimeSpan.FromSeconds(5));
            builder.WebHost.UseKestrel(k =>
            {
                k.Limits.MaxRequestBodySize = options.MaxBodyBytes;
                k.Listen(address, options.Port);
            });
            var app = builder.Build();
            var server = new KitServer(options, host, log, app);
            server.Map(app);
            host.Start();
            await app.StartAsync(cancel);
            var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            server.Address = new Uri(bound.Replace("[::]", "[::1]").Replace("0.0.0.0", "127.0.0.1"));
            return server;
        }
        catch
        {
            host.Dispose();
            log?.Dispose();
            throw;
        }
    }

    /// <summary>Completes when the host is asked to stop (Ctrl+C, SIGTERM or <see cref="StopAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancel = default) => _app.WaitForShutdownAsync(cancel);

    /// <summary>Graceful shutdown: stops accepting, answers every request already accepted, then frees the model.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        await _app.StopAsync();
        _host.Dispose();
        _log?.Dispose();
        await _app.DisposeAsync();
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => new(StopAsync());

    private void Map(WebApplication app)
    {
        app.Use(Pipeline);
        app.MapGet("/health", Health);
        app.MapGet("/metrics", ctx => Text(ctx, Metrics.ToPrometheusText(), "text/plain; version=0.0.4; charset=utf-8"));
        app.MapGet("/v1/models", ListModels);
        app.MapPost("/v1/chat/completions", Chat);
        app.MapPost("/v1/completions", Completions);
        app.MapPost("/v1/classify", Classify);
        app.MapFallback(ctx => throw new ApiError(404, $"unknown endpoint {ctx.Request.Method} {ctx.Request.Path}", code: "unknown_url"));
    }

    /// <summary>What the log and the metrics learn about one request while it is handled.</summary>
    private sealed class RequestState
    {
        public string? Model, Adapter, FinishReason, Label, RawText, Error;
        public int PromptTokens, CompletionTokens;
        public double? Probability;
    }

    private static RequestState State(HttpContext ctx) => (RequestState)ctx.Items[StateKey]!;

    /// <summary>Authentication, errors in OpenAI's shape, and one metrics entry and log row per /v1 request.</summary>
    private async Task Pipeline(HttpContext ctx, RequestDelegate next)
    {
        var time = DateTimeOffset.UtcNow;
        var start = Stopwatch.GetTimestamp();
        var state = new RequestState();
        ctx.Items[StateKey] = state;
        var counted = ctx.Request.Path.StartsWithSegments("/v1");
        try
        {
            if (counted && _key is not null && !Authorized(ctx))
                throw new ApiError(401, "Incorrect or missing API key: send it as 'Authorization: Bearer KEY'.", code: "invalid_api_key");
            await next(ctx);
        }
        catch (ApiError e)
        {
            state.Error = e.Message;
            await WriteError(ctx, e);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e)
        {
            var error = e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? new ApiError(413, $"the request body is larger than {_options.MaxBodyBytes} bytes", code: "request_too_large")
                : new ApiError(e.StatusCode, e.Message);
            state.Error = error.Message;
            await WriteError(ctx, error);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            state.Error = "the client closed the connection";
            if (!ctx.Response.HasStarted) ctx.Response.StatusCode = 499;
        }
        catch (Exception e)
        {
            state.Error = $"{e.GetType().Name}: {e.Message}";
            await WriteError(ctx, new ApiError(500, $"the server failed: {e.Message}", "server_error"));
        }
        finally
        {
            if (counted) Record(ctx, state, time, Stopwatch.GetElapsedTime(start));
        }
    }

    private void Record(HttpContext ctx, RequestState state, DateTimeOffset time, TimeSpan elapsed)
    {
        var path = ctx.Request.Path.Value ?? "";
        var endpoint = Endpoints.Contains(path) ? path : "other";
        var status = ctx.Response.StatusCode;
        Metrics.Record(endpoint, state.Model, status, state.PromptTokens, state.CompletionTokens, elapsed.TotalSeconds);
        if (_log is null) return;
        try
        {
            _log.Write(new RequestRecord
            {
                Time = time, Endpoint = path, Model = state.Model, Adapter = state.Adapter, Status = status,
                PromptTokens = state.PromptTokens, CompletionTokens = state.CompletionTokens, LatencyMs = elapsed.TotalMilliseconds,
                FinishReason = state.FinishReason, Label = state.Label, Probability = state.Probability, Error = state.Error,
            }, state.RawText);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"ftk serve: could not write the request log {_log.Path}: {e.Message}");
        }
    }

    private bool Authorized(HttpContext ctx)
    {
        var header = ctx.Request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        if (!header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase)) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[bearer.Length..].Trim()), _key);
    }

    private static async Task WriteError(HttpContext ctx, ApiError e)
    {
        if (ctx.Response.HasStarted) return;
        ctx.Response.Clear();
        ctx.Response.StatusCode = e.Status;
        if (e.Status == 503) ctx.Response.Headers.RetryAfter = "1";
        if (e.Status == 401) ctx.Response.Headers.WWWAuthenticate = "Bearer";
        await Text(ctx, e.ToJson().ToJsonString(), "application/json");
    }

    private static Task Text(HttpContext ctx, string text, string contentType)
    {
        ctx.Response.ContentType = contentType;
        return ctx.Response.WriteAsync(text);
    }

    private static Task Json(HttpContext ctx, JsonNode body) => Text(ctx, body.ToJsonString(), "application/json");

    private static async Task<JsonObject> ReadBody(HttpContext ctx)
    {
        using var buffer = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(buffer, ctx.RequestAborted);
        JsonNode? node;
        try { node = JsonNode.Parse(buffer.ToArray()); }
        catch (JsonException e) { throw new ApiError(400, $"We could not parse the JSON body of your request: {e.Message}", code: "invalid_json"); }
        return node as JsonObject ?? throw new ApiError(400, "the request body must be a JSON object", code: "invalid_json");
    }

    /// <summary>The model field: the base model's name or an adapter's; any other name is 404 model_not_found, as OpenAI answers.</summary>
    private string? ResolveModel(JsonObject body, RequestState state)
    {
        var model = JsonFields.String(body, "model", required: true)!;
        state.Model = model;
        if (!_host.TryResolve(model, out var adapter))
            throw new ApiError(404, $"The model '{model}' does not exist; this server has: {string.Join(", ", _host.ModelNames)}.", param: "model", code: "model_not_found");
        state.Adapter = adapter;
        return adapter;
    }

    private Task Health(HttpContext ctx) => Json(ctx, new JsonObject
    {
        ["status"] = "ok", ["model"] = _host.BaseName,
        ["adapters"] = new JsonArray(_host.Adapters.Names.Select(n => (JsonNode?)n).ToArray()),
        ["queue_length"] = _host.QueueLength, ["queue_capacity"] = _host.Capacity,
    });

    private Task ListModels(HttpContext ctx)
    {
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var data = new JsonArray();
        foreach (var name in _host.ModelNames)
            data.Add(new JsonObject { ["id"] = name, ["object"] = "model", ["created"] = created, ["owned_by"] = "ftk" });
        return Json(ctx, new JsonObject { ["object"] = "list", ["data"] = data });
    }
}
