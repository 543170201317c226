using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FineTune.Kit.Text;

/// <summary>
/// A tokenizer.json pre-tokenizer of a SentencePiece-style BPE: cuts a piece of (normalized) text into the words that
/// BPE then encodes one by one, so merges never cross a cut.
/// </summary>
internal abstract record HfPreTokenizer
{
    /// <summary>The words of one piece, in order, each keeping its alignment to the original text.</summary>
    public abstract IEnumerable<AlignedText> PreTokenize(AlignedText text);

    /// <summary>Reads a pre-tokenizer as the steps to apply in order (none when there is none); others are refused by name.</summary>
    public static List<HfPreTokenizer> Read(JsonNode? node, string path)
    {
        if (node is null || node.GetValueKind() == JsonValueKind.Null) return [];
        var type = node is JsonObject o && o["type"] is JsonValue t && t.GetValueKind() == JsonValueKind.String ? t.GetValue<string>() : null;
        switch (type)
        {
            case "Metaspace":
                var (replacement, scheme, split) = Metaspace.ReadSettings(node.AsObject(), $"{path}: pre_tokenizer Metaspace");
                return [new Metaspace(replacement, scheme, split)];
            case "Split":
                var (literal, regex) = HfNormalizer.Pattern(node["pattern"], $"{path}: pre_tokenizer Split");
                if (node["invert"]?.GetValueKind() is JsonValueKind.True)
                    throw new NotByteLevelBpeException($"{path}: pre_tokenizer Split with invert = true is not supported");
                var behavior = node["behavior"] is JsonValue b && b.GetValueKind() == JsonValueKind.String ? b.GetValue<string>()
                    : throw new TokenizerFormatException($"{path}: pre_tokenizer Split has no \"behavior\"");
                return [new SplitPreTokenizer(literal, regex, behavior switch
                {
                    "Removed" or "Isolated" or "MergedWithPrevious" or "MergedWithNext" or "Contiguous" => behavior,
                    _ => throw new TokenizerFormatException($"{path}: pre_tokenizer Split behavior '{behavior}' is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous"),
                })];
            case "Sequence":
                return (node["pretokenizers"] as JsonArray ?? throw new TokenizerFormatException($"{path}: pre_tokenizer Sequence has no \"pretokenizers\" list"))
                    .SelectMany(n => Read(n, path)).ToList();
            default:
                throw new NotByteLevelBpeException(
                    $"{path}: pre_tokenizer '{type ?? "(no type)"}' is not supported with a SentencePiece-style BPE (supported: Metaspace, Split, Sequence of them)");
        }
    }
}

/// <summary>
/// The Split pre-tokenizer: cuts at every match of a literal or regex; the matches are dropped (Removed), kept alone
/// (Isolated), joined to the piece before (MergedWithPrevious) or after (MergedWithNext), or runs of them kept together
/// (Contiguous).
/// </summary>
internal sealed record SplitPreTokenizer(string? Literal, Regex? Regex, string Behavior) : HfPreTokenizer
{
    public override IEnumerable<AlignedText> PreTokenize(AlignedText text)
    {
        // The text as alternating runs: (start, end, is a match).
        var runs = new List<(int Start, int End, bool Match)>();
        var at = 0;
        foreach (var (start, length) in Matches(text.Text))
        {
            if (start > at) runs.Add((at, start, false));
            runs.Add((start, start + length, true));
            at = start + length;
        }
        if (at < text.Text.Length) runs.Add((at, text.Text.Length, false));

        var pieces = new List<(int Start, int End)>();
        var previousMatch = false;
        switch (Behavior)
        {
            case "Removed":
                pieces.AddRange(runs.Where(r => !r.Match).Select(r => (r.Start, r.End)));
                break;
            case "Isolated":
                pieces.AddRange(runs.Select(r => (r.Start, r.End)));
                break;
            case "Contiguous":
                foreach (var r in runs)
                {
                    if (r.Match == previousMatch && pieces.Count > 0) pieces[^1] = (pieces[^1].Start, r.End);
                    else pieces.Add((r.Start, r.End));
                    previousMatch = r.Match;
                }
                break;
            case "MergedWithPrevious":
                foreach (var r in runs)
                {
                    if (r.Match && !previousMatch && pieces.Count > 0) pieces[^1] = (pieces[^1].Start, r.End);
                    else pieces.Add((r.Start, r.End));
                    previousMatch = r.Match;
                }
                break;
            case "MergedWithNext":
                for (var k = runs.Count - 1; k >= 0; k--)
                {
                    var r = runs[k];
                    if (r.Match && !previousMatch && pieces.Count > 0) pieces[^1] = (r.Start, pieces[^1].End);
                    else pieces.Add((r.Start, r.End));
                    previousMatch = r.Match;
                }
                pieces.Reverse();
                break;
        }
        return pieces.Where(p => p.End > p.Start).Select(p => text.Slice(p.Start, p.End));
    }

    private IEnumerable<(int Start, int Length)> Matches(string text)
    {
        if (Literal is not null)
        {
            if (Literal.Length == 0) yield break;
            for (var i = text.IndexOf(Literal, StringComparison.Ordinal); i >= 0; i = text.IndexOf(Literal, i + Literal.Length, StringComparison.Ordinal))
                yield return (i, Literal.Length);
            yield break;
        }
        foreach (Match m in Regex!.Matches(text))
            if (m.Length > 0) yield return (m.Index, m.Length);
    }
}
