using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTune.Kit.Text;

/// <summary>When the Metaspace pre-tokenizer puts a replacement character before a piece of text.</summary>
internal enum MetaspacePrepend
{
    /// <summary>Before every piece that does not already start with one.</summary>
    Always,
    /// <summary>Only before the piece that starts the input (not after a special token).</summary>
    First,
    /// <summary>Never.</summary>
    Never,
}

/// <summary>
/// The Metaspace pre-tokenizer: spaces become the replacement character ("▁"), which is prepended as the scheme says,
/// and with <c>split</c> the text is cut before every replacement character (each piece keeps the one it starts with).
/// </summary>
internal sealed record Metaspace(char Replacement, MetaspacePrepend Scheme, bool Split) : HfPreTokenizer
{
    /// <summary>Reads replacement, prepend_scheme (or the older add_prefix_space) and split, with the reference defaults.</summary>
    public static (char Replacement, MetaspacePrepend Scheme, bool Split) ReadSettings(JsonObject obj, string where)
    {
        var replacement = obj["replacement"] is JsonValue r && r.GetValueKind() == JsonValueKind.String && r.GetValue<string>().Length == 1
            ? r.GetValue<string>()[0]
            : throw new TokenizerFormatException($"{where}: \"replacement\" must be a single character (usually \"▁\")");
        var scheme = obj["prepend_scheme"] switch
        {
            null => MetaspacePrepend.Always,
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>() switch
            {
                "always" => MetaspacePrepend.Always,
                "first" => MetaspacePrepend.First,
                "never" => MetaspacePrepend.Never,
                var other => throw new TokenizerFormatException($"{where}: prepend_scheme '{other}' is not one of first, always, never"),
            },
            var other => throw new TokenizerFormatException($"{where}: prepend_scheme must be a string, found {other.GetValueKind()}"),
        };
        if (obj["add_prefix_space"]?.GetValueKind() is JsonValueKind.False)
        {
            if (scheme != MetaspacePrepend.Never && obj["prepend_scheme"] is not null)
                throw new TokenizerFormatException($"{where}: add_prefix_space = false does not match prepend_scheme '{obj["prepend_scheme"]}'");
            scheme = MetaspacePrepend.Never;
        }
        var split = obj["split"]?.GetValueKind() switch
        {
            null or JsonValueKind.Null or JsonValueKind.True => true,
            JsonValueKind.False => false,
            var other => throw new TokenizerFormatException($"{where}: \"split\" must be true or false, found {other}"),
        };
        return (replacement, scheme, split);
    }

    /// <inheritdoc/>
    public override IEnumerable<AlignedText> PreTokenize(AlignedText text)
    {
        text = text.Replace(" ", Replacement.ToString());
        var prepend = Scheme == MetaspacePrepend.Always || (Scheme == MetaspacePrepend.First && text.OriginalStart == 0);
        if (prepend && !text.Text.StartsWith(Replacement)) text = text.Prepend(Replacement.ToString());
        if (text.Text.Length == 0) yield break;
        if (!Split)
        {
            yield return text;
            yield break;
        }
        var start = 0;
        for (var i = 1; i < text.Text.Length; i++)
            if (text.Text[i] == Replacement) { yield return text.Slice(start, i); start = i; }
        yield return text.Slice(start, text.Text.Length);
    }
}
