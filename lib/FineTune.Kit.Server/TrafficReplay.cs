using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace FineTune.Kit.Server;

/// <summary>What a replay measured: per-request latency, failures, generated tokens and the wall time.</summary>
/// <param name="LatenciesMs">Latency of each successful request, in completion order.</param>
/// <param name="Failed">Requests answered with an error status.</param>
/// <param name="CompletionTokens">Tokens the server generated, from each answer's usage.</param>
/// <param name="Seconds">Wall time from the first request sent to the last answer read.</param>
public sealed record ReplayResult(IReadOnlyList<double> LatenciesMs, int Failed, long CompletionTokens, double Seconds)
{
    /// <summary>Successful requests per second.</summary>
    public double RequestsPerSecond => LatenciesMs.Count / Seconds;
    /// <summary>Generated tokens per second.</summary>
    public double TokensPerSecond => CompletionTokens / Seconds;
    /// <summary>The latency below which a share <paramref name="q"/> of the requests finished (linear interpolation).</summary>
    public double LatencyQuantileMs(double q) => Monitoring.DriftStatistics.Quantile(LatenciesMs, q);
}

/// <summary>
/// Sends request texts to an OpenAI-compatible server from several concurrent clients, each waiting for its answer
/// before sending the next: a replay of recorded traffic (for the request log and <c>ftk monitor</c>) and the load of
/// <c>ftk bench serve</c>.
/// </summary>
/// <example>
/// <code>
/// var texts = DriftTraffic.Read("data/sample/traffic.drift.jsonl").Select(r => r.Text).ToList();
/// var result = await TrafficReplay.For(server.Address, "base-model").Clients(4).MaxTokens(8).RunAsync(texts);
/// </code>
/// </example>
public sealed class TrafficReplay
{
    private readonly Uri _server;
    private readonly string _model;
    private int _clients = 1, _maxTokens = 16;
    private string? _apiKey;
    private bool _classify;

    private TrafficReplay(Uri server, string model)
    {
        _server = server;
        _model = model;
    }

    /// <summary>A replay against the server at <paramref name="server"/> (e.g. http://127.0.0.1:8080) asking for <paramref name="model"/>.</summary>
    public static TrafficReplay For(Uri server, string model)
    {
        if (string.IsNullOrWhiteSpace(model)) throw new ArgumentException("model must name a model the server has", nameof(model));
        return new TrafficReplay(server, model);
    }

    /// <summary>Concurrent clients (1 or more).</summary>
    public TrafficReplay Clients(int count)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "Clients must be at least 1");
        _clients = count;
        return this;
    }

    /// <summary>max_tokens of each chat request (1 or more).</summary>
    public TrafficReplay MaxTokens(int count)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "MaxTokens must be at least 1");
        _maxTokens = count;
        return this;
    }

    /// <summary>The key sent as <c>Authorization: Bearer KEY</c>.</summary>
    public TrafficReplay ApiKey(string key)
    {
        if (string.IsNullOrEmpty(key)) throw new ArgumentException("ApiKey must not be empty", nameof(key));
        _apiKey = key;
        return this;
    }

    /// <summary>Send each text to /v1/classify instead of /v1/chat/completions (the model needs a prompt.json).</summary>
    public TrafficReplay Classify(bool on = true)
    {
        _classify = on;
        return this;
    }

    /// <summary>Sends every text once (greedy chat turns, or classifications) and measures the answers.</summary>
    public async Task<ReplayResult> RunAsync(IReadOnlyList<string> texts, CancellationToken cancel = default)
    {
        using var http = new HttpClient { BaseAddress = _server, Timeout = TimeSpan.FromMinutes(10) };
        if (_apiKey is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _apiKey);
        var path = _classify ? "/v1/classify" : "/v1/chat/completions";
        var latencies = new List<double>();
        int failed = 0, next = -1;
        long tokens = 0;
        var clock = Stopwatch.StartNew();
        async Task Client()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < texts.Count)
            {
                JsonObject body = _classify
                    ? new() { ["model"] = _model, ["input"] = texts[i] }
                    : new()
                    {
                        ["model"] = _model, ["temperature"] = 0, ["max_tokens"] = _maxTokens,
                        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = texts[i] }),
                    };
                var start = Stopwatch.GetTimestamp();
                using var response = await http.PostAsync(path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"), cancel);
                var answer = await response.Content.ReadAsStringAsync(cancel);
                var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                lock (latencies)
                {
                    if (!response.IsSuccessStatusCode) { failed++; continue; }
                    latencies.Add(ms);
                    tokens += (long?)JsonNode.Parse(answer)?["usage"]?["completion_tokens"] ?? 0;
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, _clients).Select(_ => Task.Run(Client, cancel)));
        return new ReplayResult(latencies, failed, tokens, clock.Elapsed.TotalSeconds);
    }
}
