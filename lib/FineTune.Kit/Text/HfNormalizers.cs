using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FineTune.Kit.Text;

/// <summary>
/// The tokenizer.json normalizers SentencePiece-style files use: Replace (a string or a regex by a content), Prepend
/// (a prefix before non-empty text) and a Sequence of them, applied in order.
/// </summary>
internal abstract record HfNormalizer
{
    public abstract AlignedText Apply(AlignedText text);

    /// <summary>The string a Replace or Split "pattern" names: {"String": s} (literal) or {"Regex": r}.</summary>
    internal static (string? Literal, Regex? Regex) Pattern(JsonNode? node, string where)
    {
        if (node is JsonObject o && o["String"] is JsonValue s && s.GetValueKind() == JsonValueKind.String) return (s.GetValue<string>(), null);
        if (node is JsonObject r && r["Regex"] is JsonValue rx && rx.GetValueKind() == JsonValueKind.String)
        {
            try { return (null, new Regex(rx.GetValue<string>(), RegexOptions.CultureInvariant)); }
            catch (ArgumentException e) { throw new TokenizerFormatException($"{where}: the regex is not usable: {e.Message}", e); }
        }
        throw new TokenizerFormatException($"{where}: expected \"pattern\": {{\"String\": ...}} or {{\"Regex\": ...}}");
    }

    /// <summary>Reads a normalizer; null when there is none. Anything else is refused by name.</summary>
    public static HfNormalizer? Read(JsonNode? node, string path)
    {
        if (node is null || node.GetValueKind() == JsonValueKind.Null) return null;
        var type = node is JsonObject o && o["type"] is JsonValue t && t.GetValueKind() == JsonValueKind.String ? t.GetValue<string>() : null;
        switch (type)
        {
            case "Replace":
                var (literal, regex) = Pattern(node["pattern"], $"{path}: normalizer Replace");
                var content = node["content"] is JsonValue c && c.GetValueKind() == JsonValueKind.String ? c.GetValue<string>()
                    : throw new TokenizerFormatException($"{path}: normalizer Replace has no string \"content\"");
                return new ReplaceNormalizer(literal, regex, content);
            case "Prepend":
                return new PrependNormalizer(node["prepend"] is JsonValue p && p.GetValueKind() == JsonValueKind.String ? p.GetValue<string>()
                    : throw new TokenizerFormatException($"{path}: normalizer Prepend has no string \"prepend\""));
            case "Sequence":
                var steps = (node["normalizers"] as JsonArray ?? throw new TokenizerFormatException($"{path}: normalizer Sequence has no \"normalizers\" list"))
                    .Select(n => Read(n, path)).OfType<HfNormalizer>().ToList();
                return steps.Count == 0 ? null : new SequenceNormalizer(steps);
            default:
                throw new NotByteLevelBpeException(
                    $"{path}: normalizer '{type ?? "(no type)"}' is not supported with a SentencePiece-style BPE (supported: Replace, Prepend, Sequence of them)");
        }
    }
}

/// <summary>Replaces every match of a literal or a regex by a content (Llama and Gemma map " " to "▁").</summary>
internal sealed record ReplaceNormalizer(string? Literal, Regex? Regex, string Content) : HfNormalizer
{
    public override AlignedText Apply(AlignedText text) =>
        Literal is not null ? text.Replace(Literal, Content)
        : text.Replace(Regex!.Matches(text.Text).Where(m => m.Length > 0).Select(m => (m.Index, m.Length)).ToList(), Content);
}

/// <summary>Puts a prefix before the text unless the text is empty (the SentencePiece dummy-prefix "▁").</summary>
internal sealed record PrependNormalizer(string Prefix) : HfNormalizer
{
    public override AlignedText Apply(AlignedText text) => text.Text.Length == 0 ? text : text.Prepend(Prefix);
}

/// <summary>Normalizers applied one after the other.</summary>
internal sealed record SequenceNormalizer(IReadOnlyList<HfNormalizer> Steps) : HfNormalizer
{
    public override AlignedText Apply(AlignedText text)
    {
        foreach (var step in Steps) text = step.Apply(text);
        return text;
    }
}
