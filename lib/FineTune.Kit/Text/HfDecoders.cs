using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FineTune.Kit.Text;

/// <summary>
/// The tokenizer.json decoders SentencePiece-style files use. Each step turns a list of token strings into another
/// list; the decoded text is the final list joined. Semantics follow the reference (Rust) implementation.
/// </summary>
internal abstract record HfDecoder
{
    public abstract List<string> DecodeChain(List<string> tokens);

    /// <summary>Reads a decoder; null when there is none. Anything else is refused by name.</summary>
    public static HfDecoder? Read(JsonNode? node, string path)
    {
        if (node is null || node.GetValueKind() == JsonValueKind.Null) return null;
        var type = node is JsonObject o && o["type"] is JsonValue t && t.GetValueKind() == JsonValueKind.String ? t.GetValue<string>() : null;
        switch (type)
        {
            case "ByteFallback": return new ByteFallbackDecoder();
            case "Fuse": return new FuseDecoder();
            case "Strip":
                var content = node["content"] is JsonValue c && c.GetValueKind() == JsonValueKind.String && c.GetValue<string>().EnumerateRunes().Count() == 1
                    ? c.GetValue<string>() : throw new TokenizerFormatException($"{path}: decoder Strip needs \"content\" to be a single character");
                return new StripDecoder(content, Count(node["start"], "start"), Count(node["stop"], "stop"));
            case "Replace":
                var (literal, regex) = HfNormalizer.Pattern(node["pattern"], $"{path}: decoder Replace");
                return new ReplaceDecoder(literal, regex, node["content"] is JsonValue rc && rc.GetValueKind() == JsonValueKind.String ? rc.GetValue<string>()
                    : throw new TokenizerFormatException($"{path}: decoder Replace has no string \"content\""));
            case "Metaspace":
                var (replacement, scheme, _) = Metaspace.ReadSettings(node.AsObject(), $"{path}: decoder Metaspace");
                return new MetaspaceDecoder(replacement, scheme);
            case "Sequence":
                return new SequenceDecoder((node["decoders"] as JsonArray ?? throw new TokenizerFormatException($"{path}: decoder Sequence has no \"decoders\" list"))
                    .Select(d => Read(d, path)).OfType<HfDecoder>().ToList());
            default:
                throw new NotByteLevelBpeException(
                    $"{path}: decoder '{type ?? "(no type)"}' is not supported with a SentencePiece-style BPE (supported: Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence of them)");
        }

        int Count(JsonNode? n, string name) =>
            n is null ? 0 : n is JsonValue v && v.TryGetValue<int>(out var i) && i >= 0 ? i
            : throw new TokenizerFormatException($"{path}: decoder Strip \"{name}\" must be a non-negative integer");
    }
}

/// <summary>Runs of &lt;0xNN&gt; tokens become the text their bytes spell; bytes that are not valid UTF-8 become one U+FFFD each.</summary>
internal sealed record ByteFallbackDecoder : HfDecoder
{
    private static readonly UTF8Encoding Strict = new(false, throwOnInvalidBytes: true);

    public static bool TryParseByteToken(string token, out byte value)
    {
        value = 0;
        return token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
               && byte.TryParse(token.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        var pending = new List<byte>();
        void Flush()
        {
            if (pending.Count == 0) return;
            try { result.Add(Strict.GetString(pending.ToArray())); }
            catch (DecoderFallbackException) { result.AddRange(Enumerable.Repeat("\uFFFD", pending.Count)); }
            pending.Clear();
        }
        foreach (var token in tokens)
        {
            if (TryParseByteToken(token, out var b)) { pending.Add(b); continue; }
            Flush();
            result.Add(token);
        }
        Flush();
        return result;
    }
}

/// <summary>Joins all tokens into one.</summary>
internal sealed record FuseDecoder : HfDecoder
{
    public override List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
}

/// <summary>Removes up to <c>Start</c> leading and <c>Stop</c> trailing copies of one character from every token.</summary>
internal sealed record StripDecoder(string Content, int Start, int Stop) : HfDecoder
{
    public override List<string> DecodeChain(List<string> tokens) => tokens.Select(token =>
    {
        var runes = token.EnumerateRunes().Select(r => r.ToString()).ToList();
        var from = 0;
        while (from < Start && from < runes.Count && runes[from] == Content) from++;
        var to = runes.Count;
        while (runes.Count - to < Stop && to > from && runes[to - 1] == Content) to--;
        return string.Concat(runes.Skip(from).Take(to - from));
    }).ToList();
}

/// <summary>Replaces a literal or regex in every token by a content ("▁" back to " ").</summary>
internal sealed record ReplaceDecoder(string? Literal, Regex? Regex, string Content) : HfDecoder
{
    public override List<string> DecodeChain(List<string> tokens) =>
        tokens.Select(t => Literal is not null ? (Literal.Length == 0 ? t : t.Replace(Literal, Content, StringComparison.Ordinal))
                                               : Regex!.Replace(t, Content.Replace("$", "$$", StringComparison.Ordinal))).ToList();
}

/// <summary>
/// The Metaspace decoder: the replacement character becomes a space, except in the first token, where (unless the
/// prepend scheme is "never") every replacement character is dropped, as the reference implementation does.
/// </summary>
internal sealed record MetaspaceDecoder(char Replacement, MetaspacePrepend Scheme) : HfDecoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        for (var i = 0; i < tokens.Count; i++)
            result.Add(i == 0 && Scheme != MetaspacePrepend.Never
                ? tokens[i].Replace(Replacement.ToString(), "", StringComparison.Ordinal)
                : tokens[i].Replace(Replacement, ' '));
        return result;
    }
}

/// <summary>Decoders applied one after the other.</summary>
internal sealed record SequenceDecoder(IReadOnlyList<HfDecoder> Steps) : HfDecoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        foreach (var step in Steps) tokens = step.DecodeChain(tokens);
        return tokens;
    }
}
