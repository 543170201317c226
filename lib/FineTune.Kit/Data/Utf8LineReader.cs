using System.Text;

namespace FineTune.Kit.Data;

/// <summary>
/// A text reader over a byte stream that decodes strictly one line at a time, so that an invalid UTF-8 byte is
/// reported with the number of the line it is on (a plain StreamReader decodes whole buffers and cannot say where).
/// A leading byte-order mark is skipped.
/// </summary>
internal sealed class Utf8LineReader(Stream stream, string source) : TextReader
{
    private static readonly UTF8Encoding Strict = new(false, throwOnInvalidBytes: true);
    private readonly IEnumerator<byte[]?> _lines = ByteLines(stream).GetEnumerator();
    private string _current = "";
    private int _at;
    private int _lineNo;

    public override int Peek() => Fill() ? _current[_at] : -1;

    public override int Read() => Fill() ? _current[_at++] : -1;

    private bool Fill()
    {
        while (_at >= _current.Length)
        {
            if (!_lines.MoveNext()) return false;
            _lineNo++;
            var span = (_lines.Current ?? throw new DataFormatException($"{source}:{_lineNo}: {TooLong(_lineNo)}")).AsSpan();
            if (_lineNo == 1) RejectUtf16(span, source);
            if (_lineNo == 1 && span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) span = span[3..];
            try
            {
                _current = Strict.GetString(span);
            }
            catch (DecoderFallbackException e)
            {
                throw new DataFormatException($"{source}:{_lineNo}: invalid UTF-8 byte sequence", e);
            }
            _at = 0;
        }
        return true;
    }

    /// <summary>
    /// The longest line read, in bytes (16 MiB). Parsing a line takes many times its size in memory, so a file with one
    /// huge row (a whole dump on one line, a missing line break) is refused naming the line instead of exhausting memory.
    /// </summary>
    public const int MaxLineBytes = 16 << 20;

    /// <summary>
    /// The stream split after each '\n' byte (the '\n' kept, so the text reader sees the line breaks). A line longer
    /// than <paramref name="maxLineBytes"/> is not kept: it comes out as null, its bytes skipped without buffering.
    /// </summary>
    internal static IEnumerable<byte[]?> ByteLines(Stream stream, bool keepNewline = true, int maxLineBytes = MaxLineBytes)
    {
        var buffer = new byte[1 << 16];
        var line = new MemoryStream();
        bool tooLong = false;
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            int start = 0;
            for (int i = 0; i < read; i++)
            {
                if (buffer[i] != (byte)'\n') continue;
                int count = i - start + (keepNewline ? 1 : 0);
                tooLong |= line.Length + count > maxLineBytes + (keepNewline ? 1 : 0);
                if (!tooLong) line.Write(buffer, start, count);
                yield return tooLong ? null : line.ToArray();
                line.SetLength(0);
                tooLong = false;
                start = i + 1;
            }
            tooLong |= line.Length + (read - start) > maxLineBytes;
            if (tooLong) line.SetLength(0);
            else line.Write(buffer, start, read - start);
        }
        if (tooLong) yield return null;
        else if (line.Length > 0) yield return line.ToArray();
    }

    /// <summary>
    /// Refuses a file in UTF-16 (or UTF-32) by its first line: a UTF-16 byte-order mark, or zero bytes, which UTF-8
    /// text never holds. Decoding it as UTF-8 would only say "invalid UTF-8" or read text with NULs in it.
    /// </summary>
    internal static void RejectUtf16(ReadOnlySpan<byte> firstLine, string source)
    {
        var bom = firstLine.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) ? "FF FE, UTF-16 little-endian"
            : firstLine.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]) ? "FE FF, UTF-16 big-endian" : null;
        if (bom is not null)
            throw new DataFormatException($"{source}: the file is UTF-16 (byte-order mark {bom}); save it as UTF-8");
        if (firstLine.IndexOf((byte)0) >= 0)
            throw new DataFormatException($"{source}:1: the line has zero bytes, so the file looks like UTF-16 or UTF-32; save it as UTF-8");
    }

    /// <summary>The error for a line longer than <see cref="MaxLineBytes"/>.</summary>
    internal static string TooLong(int lineNo) =>
        $"the line is longer than {MaxLineBytes >> 20} MiB, the most one row may take (is a line break missing?)";
}
