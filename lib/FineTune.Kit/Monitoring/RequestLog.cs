using System.Globalization;
using FineTune.Kit.Data.Curation;
using Microsoft.Data.Sqlite;

namespace FineTune.Kit.Monitoring;

/// <summary>
/// The request log: an SQLite file with one row per request, in write-ahead-log mode so that a reader (ftk monitor)
/// can open it while the server writes, and a killed server leaves every committed row readable. Input text passes
/// through the kit's PII redaction before it reaches the disk. Safe to call from many threads.
/// </summary>
public sealed class RequestLog : IDisposable
{
    private static readonly PiiRedactionRule Redaction = new();
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _insert;
    private readonly object _gate = new();

    private RequestLog(string path, LogTextMode textMode)
    {
        Path = path;
        TextMode = textMode;
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL;");
        Execute("PRAGMA synchronous=NORMAL;");
        Execute("""
            CREATE TABLE IF NOT EXISTS requests (
              id INTEGER PRIMARY KEY AUTOINCREMENT,
              time TEXT NOT NULL, endpoint TEXT NOT NULL, model TEXT, adapter TEXT, status INTEGER NOT NULL,
              prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, latency_ms REAL NOT NULL,
              finish_reason TEXT, label TEXT, probability REAL, text TEXT, input_chars INTEGER NOT NULL,
              input_words INTEGER NOT NULL, error TEXT);
            """);
        _insert = _connection.CreateCommand();
        _insert.CommandText = """
            INSERT INTO requests (time, endpoint, model, adapter, status, prompt_tokens, completion_tokens, latency_ms,
              finish_reason, label, probability, text, input_chars, input_words, error)
            VALUES ($time, $endpoint, $model, $adapter, $status, $prompt, $completion, $latency,
              $finish, $label, $probability, $text, $chars, $words, $error);
            """;
        foreach (var name in new[] { "$time", "$endpoint", "$model", "$adapter", "$status", "$prompt", "$completion", "$latency",
                                     "$finish", "$label", "$probability", "$text", "$chars", "$words", "$error" })
            _insert.Parameters.Add(new SqliteParameter { ParameterName = name });
    }

    /// <summary>The database file.</summary>
    public string Path { get; }
    /// <summary>What is kept of input text.</summary>
    public LogTextMode TextMode { get; }

    /// <summary>Opens (or creates) a log file.</summary>
    public static RequestLog Open(string path, LogTextMode textMode = LogTextMode.Redacted) => new(path, textMode);

    /// <summary>Redacts PII from a text the way the log stores it.</summary>
    public static string Redact(string text) => Redaction.Transform(text);

    /// <summary>Counts whitespace-separated words.</summary>
    public static int CountWords(string text) =>
        text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;

    /// <summary>
    /// Appends one row. <paramref name="rawText"/> is the original input: only its lengths and, in
    /// <see cref="LogTextMode.Redacted"/> mode, its redacted form are written.
    /// </summary>
    public void Write(RequestRecord record, string? rawText)
    {
        string? text = rawText is null || TextMode == LogTextMode.None ? null : Redact(rawText);
        lock (_gate)
        {
            object?[] values =
            [
                record.Time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture), record.Endpoint, record.Model, record.Adapter,
                record.Status, record.PromptTokens, record.CompletionTokens, record.LatencyMs, record.FinishReason, record.Label,
                record.Probability, text, rawText?.Length ?? record.InputChars, rawText is null ? record.InputWords : CountWords(rawText),
                record.Error,
            ];
            for (var i = 0; i < values.Length; i++) _insert.Parameters[i].Value = values[i] ?? DBNull.Value;
            _insert.ExecuteNonQuery();
        }
    }

    /// <summary>Reads every row of a log file, oldest first.</summary>
    public static IReadOnlyList<RequestRecord> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such request log");
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
            { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT time, endpoint, model, adapter, status, prompt_tokens, completion_tokens, latency_ms, finish_reason,
                   label, probability, text, input_chars, input_words, error FROM requests ORDER BY id
            """;
        var rows = new List<RequestRecord>();
        try
        {
            using var reader = command.ExecuteReader();
            while (reader.Read())
                rows.Add(new RequestRecord
                {
                    Time = DateTimeOffset.Parse(reader.GetString(0), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                    Endpoint = reader.GetString(1),
                    Model = reader.IsDBNull(2) ? null : reader.GetString(2),
                    Adapter = reader.IsDBNull(3) ? null : reader.GetString(3),
                    Status = reader.GetInt32(4),
                    PromptTokens = reader.GetInt32(5),
                    CompletionTokens = reader.GetInt32(6),
                    LatencyMs = reader.GetDouble(7),
                    FinishReason = reader.IsDBNull(8) ? null : reader.GetString(8),
                    Label = reader.IsDBNull(9) ? null : reader.GetString(9),
                    Probability = reader.IsDBNull(10) ? null : reader.GetDouble(10),
                    Text = reader.IsDBNull(11) ? null : reader.GetString(11),
                    InputChars = reader.GetInt32(12),
                    InputWords = reader.GetInt32(13),
                    Error = reader.IsDBNull(14) ? null : reader.GetString(14),
                });
        }
        catch (SqliteException e)
        {
            throw new InvalidDataException($"{path}: not a request log of ftk serve ({e.Message})", e);
        }
        return rows;
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            _insert.Dispose();
            _connection.Dispose();
        }
    }
}
