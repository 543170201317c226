using System.Text.Json.Nodes;
using FineTune.Kit.Data;
using FineTune.Kit.Text;

namespace FineTune.Kit.Preferences;

/// <summary>
/// One preference pair as token ids: the prompt, and the chosen and rejected responses that follow it. Only the
/// response tokens are scored; the prompt is context.
/// </summary>
/// <param name="Prompt">Prompt ids (rendered with the chat template when one was given).</param>
/// <param name="Chosen">Ids of the preferred response (ending in end-of-sequence or the template's turn end).</param>
/// <param name="Rejected">Ids of the other response.</param>
/// <param name="Line">Line of the source file (0 for pairs built in code).</param>
public sealed record PreferencePair(long[] Prompt, long[] Chosen, long[] Rejected, int Line = 0);

/// <summary>A pair whose responses were cut to fit the length limit (reported, not dropped).</summary>
/// <param name="Line">Line of the source file.</param>
/// <param name="ChosenTokensCut">Tokens cut from the end of the chosen response.</param>
/// <param name="RejectedTokensCut">Tokens cut from the end of the rejected response.</param>
public sealed record TruncatedPair(int Line, int ChosenTokensCut, int RejectedTokensCut);

/// <summary>
/// Validated, tokenized preference rows <c>{"prompt", "chosen", "rejected"}</c>. Rows with a missing or non-string
/// key, an empty response, or a chosen response equal to the rejected one are errors that name their line; pairs cut
/// by the length limit are kept and listed in <see cref="Truncated"/>.
/// </summary>
public sealed class PreferenceData
{
    private PreferenceData(IReadOnlyList<PreferencePair> pairs, IReadOnlyList<TruncatedPair> truncated, string? source, int maxLength)
    {
        Pairs = pairs;
        Truncated = truncated;
        Source = source;
        MaxLength = maxLength;
    }

    /// <summary>The pairs, in file order.</summary>
    public IReadOnlyList<PreferencePair> Pairs { get; }
    /// <summary>Pairs whose responses were shortened so that prompt + response fits <see cref="MaxLength"/>.</summary>
    public IReadOnlyList<TruncatedPair> Truncated { get; }
    /// <summary>The file the rows came from, if any.</summary>
    public string? Source { get; }
    /// <summary>The longest prompt + response sequence, in tokens.</summary>
    public int MaxLength { get; }
    /// <summary>Number of pairs.</summary>
    public int Count => Pairs.Count;

    /// <summary>Pairs already tokenized (for tests and hand-made data); each must have a prompt and non-empty, different responses.</summary>
    public static PreferenceData FromPairs(IEnumerable<PreferencePair> pairs, int maxLength = int.MaxValue)
    {
        var list = pairs.ToList();
        var problems = new List<string>();
        for (int i = 0; i < list.Count; i++)
        {
            var p = list[i];
            string where = p.Line > 0 ? $"line {p.Line}" : $"pair {i}";
            if (p.Prompt.Length == 0) problems.Add($"{where}: the prompt has no tokens");
            if (p.Chosen.Length == 0 || p.Rejected.Length == 0) problems.Add($"{where}: a response has no tokens");
            else if (p.Chosen.AsSpan().SequenceEqual(p.Rejected)) problems.Add($"{where}: chosen and rejected are the same tokens");
        }
        Throw(problems, null);
        var truncated = new List<TruncatedPair>();
        var fitted = list.Select(p => Fit(p, maxLength, truncated, null)).ToList();
        return new PreferenceData(fitted, truncated, null, maxLength);
    }

    /// <summary>Reads and validates a JSONL file of preference rows.</summary>
    public static PreferenceData From(string path, TextTokenizer tokenizer, int maxLength = 512, ChatTemplate? chatTemplate = null) =>
        From(Dataset.FromJsonl(path), tokenizer, maxLength, chatTemplate);

    /// <summary>
    /// Validates and tokenizes preference rows. With <paramref name="chatTemplate"/> the prompt is a user turn followed
    /// by the assistant header, and each response is the assistant turn with its end marker; without one the prompt
    /// and response are concatenated as they are and the response ends with the tokenizer's end-of-sequence token.
    /// Every problem found is reported at once, each with its line.
    /// </summary>
    /// <exception cref="DataFormatException">A row is not a valid preference pair (the message lists every such line).</exception>
    public static PreferenceData From(Dataset data, TextTokenizer tokenizer, int maxLength = 512, ChatTemplate? chatTemplate = null)
    {
        if (maxLength < 2) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "The length limit must be at least 2 tokens (one prompt and one response token).");
        string source = data.Source ?? "preferences";
        var problems = new List<string>();
        var rows = new List<(string Prompt, string Chosen, string Rejected, int Line)>();
        foreach (var row in data.Rows)
        {
            var missing = new[] { "prompt", "chosen", "rejected" }.Where(k => !(row.Fields[k] is JsonValue v && v.TryGetValue<string>(out _))).ToList();
            if (missing.Count > 0)
            {
                problems.Add($"{source}:{row.Line}: expected string keys \"prompt\", \"chosen\" and \"rejected\"; missing or not a string: {string.Join(", ", missing.Select(m => $"\"{m}\""))}");
                continue;
            }
            string prompt = row["prompt"]!, chosen = row["chosen"]!, rejected = row["rejected"]!;
            if (chosen.Trim().Length == 0 || rejected.Trim().Length == 0)
                problems.Add($"{source}:{row.Line}: the {(chosen.Trim().Length == 0 ? "chosen" : "rejected")} response is empty");
            else if (chosen == rejected)
                problems.Add($"{source}:{row.Line}: \"chosen\" and \"rejected\" are the same text, so the pair prefers nothing");
            else rows.Add((prompt, chosen, rejected, row.Line));
        }
        if (data.Count == 0) problems.Add($"{source}: no rows");
        Throw(problems, source);

        var truncated = new List<TruncatedPair>();
        var pairs = new List<PreferencePair>();
        foreach (var (prompt, chosen, rejected, line) in rows)
        {
            var (p, c) = Encode(tokenizer, chatTemplate, prompt, chosen);
            var (_, r) = Encode(tokenizer, chatTemplate, prompt, rejected);
            if (p.Length + 1 > maxLength)
                problems.Add($"{source}:{line}: the prompt alone is {p.Length} tokens, which leaves no room for a response within the limit of {maxLength}");
            else pairs.Add(Fit(new PreferencePair(p, c, r, line), maxLength, truncated, source));
        }
        Throw(problems, source);
        return new PreferenceData(pairs, truncated, data.Source, maxLength);
    }

    /// <summary>One line for logs: pairs and how many were cut.</summary>
    public string Summary() =>
        $"{Count} preference pairs{(Truncated.Count > 0 ? $"; {Truncated.Count} cut to {MaxLength} tokens (lines {string.Join(", ", Truncated.Take(10).Select(t => t.Line))}{(Truncated.Count > 10 ? ", …" : "")})" : "")}";

    private static PreferencePair Fit(PreferencePair p, int maxLength, List<TruncatedPair> truncated, string? source)
    {
        int room = maxLength - p.Prompt.Length;
        if (room < 1) throw new DataFormatException($"{source ?? "pairs"}: line {p.Line}: the prompt alone is {p.Prompt.Length} tokens, which leaves no room for a response within the limit of {maxLength}");
        int cutC = Math.Max(0, p.Chosen.Length - room), cutR = Math.Max(0, p.Rejected.Length - room);
        if (cutC == 0 && cutR == 0) return p;
        truncated.Add(new TruncatedPair(p.Line, cutC, cutR));
        return p with { Chosen = p.Chosen[..Math.Min(room, p.Chosen.Length)], Rejected = p.Rejected[..Math.Min(room, p.Rejected.Length)] };
    }

    private static (long[] Prompt, long[] Response) Encode(TextTokenizer tokenizer, ChatTemplate? template, string prompt, string response)
    {
        if (template is null)
        {
            var p = tokenizer.Encode(prompt).Select(i => (long)i).ToArray();
            var r = tokenizer.Encode(response).Select(i => (long)i);
            return (p, tokenizer.EosId is { } eos ? [.. r, eos] : r.ToArray());
        }
        // the rendered conversation's loss mask marks the assistant turn; everything before it is the prompt
        var encoded = template.Encode(tokenizer, [ChatMessage.User(prompt), ChatMessage.Assistant(response)]);
        int first = encoded.LossMask.ToList().IndexOf(true);
        int last = encoded.LossMask.ToList().LastIndexOf(true);
        if (first < 0) throw new DataFormatException($"The chat template '{template.Name}' marked no assistant tokens for a response.");
        var ids = encoded.Ids.Select(i => (long)i).ToArray();
        return (ids[..first], ids[first..(last + 1)]);
    }

    private static void Throw(List<string> problems, string? source)
    {
        if (problems.Count == 0) return;
        const int shown = 20;
        throw new DataFormatException(
            $"{problems.Count} invalid preference row{(problems.Count == 1 ? "" : "s")}{(source is null ? "" : $" in {source}")}:\n  " +
            string.Join("\n  ", problems.Take(shown)) + (problems.Count > shown ? $"\n  … and {problems.Count - shown} more" : ""));
    }
}
