using FineTune.Kit.Monitoring;

namespace FineTune.Kit.Server;

/// <summary>Settings of <see cref="KitServer"/>; the defaults suit one small model on a laptop.</summary>
public sealed record ServerOptions
{
    /// <summary>The base model folder.</summary>
    public required string ModelDirectory { get; init; }
    /// <summary>LoRA adapters by the name clients ask for in <c>model</c>.</summary>
    public IReadOnlyList<(string Name, string Directory)> Adapters { get; init; } = [];
    /// <summary>Address to bind (loopback by default).</summary>
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>Port (0: any free port).</summary>
    public int Port { get; init; } = 8080;
    /// <summary>When set, /v1 requests need <c>Authorization: Bearer KEY</c>.</summary>
    public string? ApiKey { get; init; }
    /// <summary>SQLite request log file, or null for none.</summary>
    public string? LogPath { get; init; }
    /// <summary>What the log keeps of input text.</summary>
    public LogTextMode LogText { get; init; } = LogTextMode.Redacted;
    /// <summary>Requests waiting for the model beyond this answer 503 with Retry-After.</summary>
    public int QueueCapacity { get; init; } = 64;
    /// <summary>Most waiting requests of the same adapter and greedy settings generated together.</summary>
    public int MaxBatch { get; init; } = 8;
    /// <summary>Largest request body in bytes.</summary>
    public long MaxBodyBytes { get; init; } = 1 << 20;
    /// <summary>A request not answered within this time gets 504.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(120);
    /// <summary>max_tokens when a request gives none.</summary>
    public int DefaultMaxTokens { get; init; } = 128;
    /// <summary>Device for the model: auto, cpu or cuda.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>Refuses values out of range, one line each.</summary>
    public void Validate()
    {
        if (Port is < 0 or > 65535) throw new ArgumentException($"--port must be between 0 and 65535, got {Port}");
        if (QueueCapacity < 1) throw new ArgumentException($"the queue capacity must be at least 1, got {QueueCapacity}");
        if (MaxBatch < 1) throw new ArgumentException($"the batch size must be at least 1, got {MaxBatch}");
        if (MaxBodyBytes < 1024) throw new ArgumentException($"the body limit must be at least 1024 bytes, got {MaxBodyBytes}");
        if (RequestTimeout <= TimeSpan.Zero) throw new ArgumentException("the request timeout must be positive");
        if (ApiKey is { Length: 0 }) throw new ArgumentException("--api-key must not be empty");
        if (!Directory.Exists(ModelDirectory)) throw new DirectoryNotFoundException($"--model: {ModelDirectory} is not a folder");
        foreach (var (name, dir) in Adapters)
        {
            if (name.Length == 0 || name.Any(char.IsWhiteSpace)) throw new ArgumentException($"--adapter: '{name}' is not a model name (no spaces, not empty)");
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"--adapter {name}: {dir} is not a folder");
        }
    }
}
