using System.Text;
using System.Text.Json.Nodes;

namespace FineTune.Kit.Data;

/// <summary>
/// Reads CSV as in RFC 4180: a header row, comma-separated fields, fields in double quotes may contain commas,
/// line breaks and doubled quotes. Every value is read as a string.
/// </summary>
public static class CsvReader
{
    /// <summary>Streams the records of a CSV file as examples keyed by the header names.</summary>
    public static IEnumerable<Example> Read(string path, OnError onError = OnError.Fail, Action<InvalidRow>? invalid = null, char delimiter = ',')
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        using var stream = File.OpenRead(path);
        foreach (var e in Read(stream, path, onError, invalid, delimiter)) yield return e;
    }

    /// <summary>Streams the records of CSV from a stream; <paramref name="source"/> names it in errors.</summary>
    public static IEnumerable<Example> Read(Stream stream, string source, OnError onError = OnError.Fail, Action<InvalidRow>? invalid = null, char delimiter = ',')
    {
        using var reader = new Utf8LineReader(stream, source);
        var records = new RecordScanner(reader, delimiter);
        string[]? header = null;
        while (true)
        {
            var (fields, startLine, error) = records.Next();
            if (fields is null && error is null) yield break;
            if (header is null)
            {
                if (error is not null) throw new DataFormatException($"{source}:{startLine}: header: {error}");
                if (fields!.Count == 1 && fields[0].Length == 0) continue; // blank lines before the header
                header = [.. fields];
                var dup = header.GroupBy(h => h).FirstOrDefault(g => g.Count() > 1);
                if (dup is not null) throw new DataFormatException($"{source}:{startLine}: header names column '{dup.Key}' twice");
                continue;
            }
            if (error is null && fields!.Count == 1 && fields[0].Length == 0) continue; // blank line
            if (error is null && fields!.Count != header.Length)
                error = $"expected {header.Length} fields as in the header, found {fields.Count}";
            if (error is null)
            {
                var o = new JsonObject();
                for (int i = 0; i < header.Length; i++) o[header[i]] = fields![i];
                yield return new Example(o, startLine);
                continue;
            }
            if (onError == OnError.Fail) throw new DataFormatException($"{source}:{startLine}: {error}");
            invalid?.Invoke(new InvalidRow(startLine, error, source));
        }
    }

    /// <summary>Splits the character stream into records, tracking the line on which each record starts.</summary>
    private sealed class RecordScanner(TextReader reader, char delimiter)
    {
        private int _line = 1;

        public (List<string>? Fields, int StartLine, string? Error) Next()
        {
            int start = _line;
            if (reader.Peek() < 0) return (null, start, null);
            var fields = new List<string>();
            var field = new StringBuilder();
            string? error = null;
            bool quoted = false, afterQuote = false, fieldStarted = false;
            while (true)
            {
                int c = Read();
                if (c < 0)
                {
                    if (quoted) return (null, start, error ?? "unterminated quoted field (a closing \" is missing)");
                    fields.Add(field.ToString());
                    return (fields, start, error);
                }
                char ch = (char)c;
                if (quoted)
                {
                    if (ch == '"')
                    {
                        if (reader.Peek() == '"') { Read(); field.Append('"'); }
                        else { quoted = false; afterQuote = true; }
                    }
                    else field.Append(ch);
                    continue;
                }
                if (ch == delimiter)
                {
                    fields.Add(field.ToString());
                    field.Clear();
                    afterQuote = fieldStarted = false;
                }
                else if (ch == '\r' || ch == '\n')
                {
                    if (ch == '\r' && reader.Peek() == '\n') Read();
                    fields.Add(field.ToString());
                    return (fields, start, error);
                }
                else if (ch == '"' && !fieldStarted)
                {
                    quoted = fieldStarted = true;
                }
                else if (afterQuote)
                {
                    error ??= $"unexpected character '{ch}' after a closing quote (line {_line})";
                }
                else if (ch == '"')
                {
                    error ??= $"a quote inside an unquoted field (line {_line}); quote the whole field and double the quote";
                    field.Append(ch);
                }
                else
                {
                    field.Append(ch);
                    fieldStarted = true;
                }
            }
        }

        private int Read()
        {
            int c = reader.Read();
            // count a CRLF pair once: the '\n' of CRLF is consumed by the caller only after the '\r'
            if (c == '\n' || (c == '\r' && reader.Peek() != '\n')) _line++;
            return c;
        }
    }
}

/// <summary>Writes CSV (RFC 4180) atomically; non-string values are written as JSON.</summary>
public static class CsvWriter
{
    /// <summary>Writes a header of every column seen (first-seen order), then one record per example.</summary>
    public static void Write(string path, IReadOnlyList<Example> rows, char delimiter = ',')
    {
        var columns = new List<string>();
        var seen = new HashSet<string>();
        foreach (var row in rows)
            foreach (var c in row.Columns)
                if (seen.Add(c)) columns.Add(c);
        Io.AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
            writer.Write(string.Join(delimiter, columns.Select(c => Quote(c, delimiter))));
            writer.Write("\r\n");
            foreach (var row in rows)
            {
                writer.Write(string.Join(delimiter, columns.Select(c => Quote(row[c] ?? "", delimiter))));
                writer.Write("\r\n");
            }
        });
    }

    /// <summary>Quotes a field when it holds the delimiter, a quote, a line break or edge spaces.</summary>
    public static string Quote(string value, char delimiter = ',')
    {
        bool needs = value.Length > 0 && (value[0] == ' ' || value[^1] == ' ');
        foreach (var ch in value)
            if (ch == delimiter || ch == '"' || ch == '\n' || ch == '\r') { needs = true; break; }
        return needs ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
    }
}
