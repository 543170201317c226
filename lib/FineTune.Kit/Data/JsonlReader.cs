using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTune.Kit.Data;

/// <summary>Reads JSON Lines (one JSON object per line), streaming, UTF-8 with or without a byte-order mark.</summary>
public static class JsonlReader
{
    /// <summary>
    /// Streams the rows of a JSONL file. Blank lines are allowed and ignored. A line that is not a JSON object, or a
    /// byte sequence that is not UTF-8, is reported through <paramref name="invalid"/> when <paramref name="onError"/>
    /// is <see cref="OnError.Skip"/>; otherwise it raises a <see cref="DataFormatException"/> naming file and line.
    /// </summary>
    public static IEnumerable<Example> Read(string path, OnError onError = OnError.Fail, Action<InvalidRow>? invalid = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        using var stream = File.OpenRead(path);
        foreach (var e in Read(stream, path, onError, invalid)) yield return e;
    }

    /// <summary>Streams the rows of JSONL from a stream; <paramref name="source"/> names it in errors.</summary>
    public static IEnumerable<Example> Read(Stream stream, string source, OnError onError = OnError.Fail, Action<InvalidRow>? invalid = null)
    {
        // lines are split on bytes and decoded one by one with strict UTF-8, so a broken byte is an error on its own
        // line (and skippable) rather than a silent U+FFFD or an error that stops the whole read
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        int lineNo = 0;
        foreach (var bytes in Utf8LineReader.ByteLines(stream, keepNewline: false))
        {
            lineNo++;
            if (bytes is null)
            {
                // too long to parse: an error for this line (skippable), and its bytes were never held in memory
                var tooLong = Utf8LineReader.TooLong(lineNo);
                if (onError == OnError.Fail) throw new DataFormatException($"{source}:{lineNo}: {tooLong}");
                invalid?.Invoke(new InvalidRow(lineNo, tooLong, source));
                continue;
            }
            var span = bytes.AsSpan();
            if (lineNo == 1) Utf8LineReader.RejectUtf16(span, source);
            if (lineNo == 1 && span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) span = span[3..];
            if (span.Length > 0 && span[^1] == '\r') span = span[..^1];
            string? error = null;
            Example? example = null;
            string line;
            try
            {
                line = strict.GetString(span);
            }
            catch (DecoderFallbackException)
            {
                line = "";
                error = "invalid UTF-8 byte sequence";
            }
            if (error is null)
            {
                if (string.IsNullOrWhiteSpace(line)) continue;
                (example, error) = Parse(line, lineNo);
            }
            if (example is not null)
            {
                yield return example;
                continue;
            }
            if (onError == OnError.Fail) throw new DataFormatException($"{source}:{lineNo}: {error}");
            invalid?.Invoke(new InvalidRow(lineNo, error!, source));
        }
    }

    internal static (Example?, string?) Parse(string line, int lineNo)
    {
        try
        {
            var node = JsonNode.Parse(line);
            if (node is JsonObject o) return (new Example(o, lineNo), null);
            var kind = node is null ? "null" : node.GetValueKind().ToString().ToLowerInvariant();
            return (null, $"expected a JSON object, got {kind}");
        }
        catch (JsonException e)
        {
            return (null, $"invalid JSON at column {(e.BytePositionInLine ?? 0) + 1}: {FirstSentence(e.Message)}");
        }
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0) cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }
}

/// <summary>Writes JSON Lines atomically (temporary file, then rename), UTF-8 without byte-order mark.</summary>
public static class JsonlWriter
{
    /// <summary>Writes each example's fields as one line.</summary>
    public static void Write(string path, IEnumerable<Example> rows) =>
        Io.AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
            foreach (var row in rows) writer.WriteLine(row.ToJson());
        });
}
