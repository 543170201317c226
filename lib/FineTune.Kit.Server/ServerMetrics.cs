using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace FineTune.Kit.Server;

/// <summary>
/// The server's counters in the Prometheus text exposition format (version 0.0.4): requests by endpoint, model and
/// status, prompt and completion tokens by model, a latency histogram by endpoint, and the queue's length.
/// </summary>
public sealed class ServerMetrics
{
    /// <summary>Upper bounds of the latency histogram, in seconds.</summary>
    public static readonly double[] LatencyBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly ConcurrentDictionary<(string Endpoint, string Model, int Status), long> _requests = new();
    private readonly ConcurrentDictionary<string, long> _promptTokens = new();
    private readonly ConcurrentDictionary<string, long> _completionTokens = new();
    private readonly ConcurrentDictionary<string, Histogram> _latency = new();
    private long _rejected;

    private sealed class Histogram
    {
        public readonly long[] Counts = new long[LatencyBuckets.Length + 1];
        public double Sum;
        public long Count;
    }

    /// <summary>Reads the number of requests waiting for the model.</summary>
    public Func<int> QueueLength { get; set; } = () => 0;
    /// <summary>The queue's capacity.</summary>
    public int QueueCapacity { get; set; }

    /// <summary>Counts one answered request.</summary>
    public void Record(string endpoint, string? model, int status, int promptTokens, int completionTokens, double seconds)
    {
        var m = model ?? "";
        _requests.AddOrUpdate((endpoint, m, status), 1, (_, n) => n + 1);
        if (promptTokens > 0) _promptTokens.AddOrUpdate(m, promptTokens, (_, n) => n + promptTokens);
        if (completionTokens > 0) _completionTokens.AddOrUpdate(m, completionTokens, (_, n) => n + completionTokens);
        var h = _latency.GetOrAdd(endpoint, _ => new Histogram());
        lock (h)
        {
            var i = 0;
            while (i < LatencyBuckets.Length && seconds > LatencyBuckets[i]) i++;
            h.Counts[i]++;
            h.Sum += seconds;
            h.Count++;
        }
    }

    /// <summary>Counts a request turned away because the queue was full.</summary>
    public void Rejected() => Interlocked.Increment(ref _rejected);

    /// <summary>The exposition text.</summary>
    public string ToPrometheusText()
    {
        var sb = new StringBuilder();
        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        static string Esc(string v) => v.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

        sb.Append("# HELP ftk_requests_total Requests answered, by endpoint, model and HTTP status.\n# TYPE ftk_requests_total counter\n");
        foreach (var ((endpoint, model, status), n) in _requests.OrderBy(p => p.Key))
            sb.Append($"ftk_requests_total{{endpoint=\"{Esc(endpoint)}\",model=\"{Esc(model)}\",status=\"{status}\"}} {n}\n");
        sb.Append("# HELP ftk_requests_rejected_total Requests answered 503 because the queue was full.\n# TYPE ftk_requests_rejected_total counter\n");
        sb.Append($"ftk_requests_rejected_total {Interlocked.Read(ref _rejected)}\n");
        sb.Append("# HELP ftk_prompt_tokens_total Prompt tokens processed, by model.\n# TYPE ftk_prompt_tokens_total counter\n");
        foreach (var (model, n) in _promptTokens.OrderBy(p => p.Key)) sb.Append($"ftk_prompt_tokens_total{{model=\"{Esc(model)}\"}} {n}\n");
        sb.Append("# HELP ftk_completion_tokens_total Tokens generated, by model.\n# TYPE ftk_completion_tokens_total counter\n");
        foreach (var (model, n) in _completionTokens.OrderBy(p => p.Key)) sb.Append($"ftk_completion_tokens_total{{model=\"{Esc(model)}\"}} {n}\n");
        sb.Append("# HELP ftk_request_duration_seconds Time from arrival to the end of the answer.\n# TYPE ftk_request_duration_seconds histogram\n");
        foreach (var (endpoint, h) in _latency.OrderBy(p => p.Key))
            lock (h)
            {
                long cumulative = 0;
                for (var i = 0; i < LatencyBuckets.Length; i++)
                {
                    cumulative += h.Counts[i];
                    sb.Append($"ftk_request_duration_seconds_bucket{{endpoint=\"{Esc(endpoint)}\",le=\"{F(LatencyBuckets[i])}\"}} {cumulative}\n");
                }
                sb.Append($"ftk_request_duration_seconds_bucket{{endpoint=\"{Esc(endpoint)}\",le=\"+Inf\"}} {h.Count}\n");
                sb.Append($"ftk_request_duration_seconds_sum{{endpoint=\"{Esc(endpoint)}\"}} {F(h.Sum)}\n");
                sb.Append($"ftk_request_duration_seconds_count{{endpoint=\"{Esc(endpoint)}\"}} {h.Count}\n");
            }
        sb.Append("# HELP ftk_queue_length Requests waiting for the model.\n# TYPE ftk_queue_length gauge\n");
        sb.Append($"ftk_queue_length {QueueLength()}\n");
        sb.Append("# HELP ftk_queue_capacity Requests that may wait before the server answers 503.\n# TYPE ftk_queue_capacity gauge\n");
        sb.Append($"ftk_queue_capacity {QueueCapacity}\n");
        return sb.ToString();
    }
}
