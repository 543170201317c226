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
    private readonly IEnumerator<byte[]> _lines = ByteLines(stream).GetEnumerator();
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
            var span = _lines.Current.AsSpan();
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

    /// <summary>The stream split after each '\n' byte (the '\n' kept, so the text reader sees the line breaks).</summary>
    internal static IEnumerable<byte[]> ByteLines(Stream stream, bool keepNewline = true)
    {
        var buffer = new byte[1 << 16];
        var line = new MemoryStream();
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            int start = 0;
            for (int i = 0; i < read; i++)
            {
                if (buffer[i] != (byte)'\n') continue;
                line.Write(buffer, start, i - start + (keepNewline ? 1 : 0));
                yield return line.ToArray();
                line.SetLength(0);
                start = i + 1;
            }
            line.Write(buffer, start, read - start);
        }
        if (line.Length > 0) yield return line.ToArray();
    }
}
