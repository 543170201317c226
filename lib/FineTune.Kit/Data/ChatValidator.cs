using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Plots;

namespace FineTune.Kit.Data;

/// <summary>One problem of a chat row, with the OpenAI fine-tuning check it corresponds to.</summary>
/// <param name="Line">Source line.</param>
/// <param name="Kind">One of the <see cref="ChatValidator"/> kinds, e.g. <c>missing_content</c>.</param>
/// <param name="Detail">What exactly is wrong.</param>
public sealed record ChatIssue(int Line, string Kind, string Detail);

/// <summary>Summary statistics of a distribution of token counts.</summary>
public sealed record TokenStats(int Count, int Min, int Max, double Mean, double Median, double P5, double P95)
{
    /// <summary>Computes the statistics (all zero for no values).</summary>
    public static TokenStats Of(IReadOnlyList<int> values)
    {
        if (values.Count == 0) return new TokenStats(0, 0, 0, 0, 0, 0, 0);
        var sorted = values.OrderBy(v => v).ToArray();
        double Quantile(double q)
        {
            double pos = q * (sorted.Length - 1);
            int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
            return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
        }
        return new TokenStats(sorted.Length, sorted[0], sorted[^1], sorted.Average(), Quantile(0.5), Quantile(0.05), Quantile(0.95));
    }
}

/// <summary>The outcome of validating a chat dataset.</summary>
public sealed class ChatValidationReport : IReport
{
    /// <summary>Every problem found, by line.</summary>
    public required IReadOnlyList<ChatIssue> Issues { get; init; }

    /// <summary>Count of problems per kind.</summary>
    public IReadOnlyDictionary<string, int> Counts => Issues.GroupBy(i => i.Kind).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>Token counts per well-formed conversation (including per-message overhead).</summary>
    public required TokenStats Tokens { get; init; }

    /// <summary>Tokens in assistant messages only (what the model is trained to produce).</summary>
    public required TokenStats AssistantTokens { get; init; }

    /// <summary>Lines of conversations longer than the context limit (they would be truncated in training).</summary>
    public required IReadOnlyList<(int Line, int Tokens)> OverContextLimit { get; init; }

    /// <summary>Token count of every well-formed conversation, in input order.</summary>
    public required IReadOnlyList<int> TokenCounts { get; init; }

    /// <summary>True when no row has a format problem.</summary>
    public bool IsValid => Issues.Count == 0;

    /// <summary>Histogram of tokens per conversation (20 equal-width bins).</summary>
    public Plotly.NET.GenericChart Chart()
    {
        int max = TokenCounts.DefaultIfEmpty(0).Max();
        const int bins = 20;
        int width = Math.Max(1, (max + bins) / bins);
        var counts = new int[bins];
        foreach (var t in TokenCounts) counts[Math.Min(bins - 1, t / width)]++;
        var keys = Enumerable.Range(0, bins).Select(i => $"{i * width}-{(i + 1) * width - 1}").ToArray();
        return Plots.PlotlyTraces.Chart([Plots.PlotlyTraces.Trace("bar", ("x", keys), ("y", counts), ("name", "conversations"))],
            "Tokens per conversation", "tokens", "conversations");
    }

    /// <summary>The page's one chart, <see cref="Chart"/>.</summary>
    public IReadOnlyList<Plotly.NET.GenericChart> Charts() => [Chart()];

    /// <summary>
    /// <c>{"valid", "counts": {kind: n}, "issues": [{"line", "kind", "detail"}], "tokens": {...}, "assistant_tokens": {...},
    /// "over_context_limit": [{"line", "tokens"}], "token_counts": [...]}</c>.
    /// </summary>
    public string ToJson()
    {
        static JsonObject Stats(TokenStats t) => new()
        {
            ["count"] = t.Count, ["min"] = t.Min, ["max"] = t.Max, ["mean"] = t.Mean, ["median"] = t.Median, ["p5"] = t.P5, ["p95"] = t.P95,
        };
        return new JsonObject
        {
            ["valid"] = IsValid,
            ["counts"] = new JsonObject(Counts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["issues"] = new JsonArray(Issues.Select(i => (JsonNode?)new JsonObject { ["line"] = i.Line, ["kind"] = i.Kind, ["detail"] = i.Detail }).ToArray()),
            ["tokens"] = Stats(Tokens),
            ["assistant_tokens"] = Stats(AssistantTokens),
            ["over_context_limit"] = new JsonArray(OverContextLimit.Select(o => (JsonNode?)new JsonObject { ["line"] = o.Line, ["tokens"] = o.Tokens }).ToArray()),
            ["token_counts"] = new JsonArray(TokenCounts.Select(t => (JsonNode?)t).ToArray()),
        }.ToJsonString(Json.Indented);
    }

    /// <summary>A page with the problem counts, token statistics, the histogram and every problem by line.</summary>
    public string ToHtml()
    {
        static string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
        var page = new HtmlPage("Chat data validation")
            .Paragraph(IsValid ? "No format problems." : $"{Issues.Count} format problems.")
            .Table(["", "conversations", "min", "median", "mean", "p95", "max"],
            [
                ["tokens", Tokens.Count.ToString(CultureInfo.InvariantCulture), F(Tokens.Min), F(Tokens.Median), F(Tokens.Mean), F(Tokens.P95), F(Tokens.Max)],
                ["assistant tokens", AssistantTokens.Count.ToString(CultureInfo.InvariantCulture), F(AssistantTokens.Min), F(AssistantTokens.Median),
                    F(AssistantTokens.Mean), F(AssistantTokens.P95), F(AssistantTokens.Max)],
            ]);
        if (OverContextLimit.Count > 0) page.Paragraph($"{OverContextLimit.Count} conversations are longer than the context limit.");
        page.Chart(Chart());
        if (Issues.Count > 0)
            page.Heading("Problems").Table(["line", "kind", "detail"],
                Issues.Select(i => (IReadOnlyList<string>)[i.Line.ToString(CultureInfo.InvariantCulture), i.Kind, i.Detail]));
        return page.ToHtml();
    }

    /// <summary>Writes report.html and report.json into <paramref name="directory"/> (see <see cref="ReportFolder"/>).</summary>
    public void Save(string directory) => ReportFolder.Write(this, directory);
}

/// <summary>
/// Checks chat rows like the OpenAI fine-tuning data checks: <c>data_type</c> (row not an object),
/// <c>missing_messages_list</c>, <c>message_missing_key</c> (role or content), <c>message_unrecognized_key</c>,
/// <c>unrecognized_role</c>, <c>missing_content</c> (content not a non-empty string), <c>example_missing_assistant_message</c>;
/// then counts tokens per conversation (content tokens + 3 per message + 1 per name + 3 for the reply, as the
/// OpenAI cookbook estimates) and lists conversations over the context limit.
/// </summary>
public static class ChatValidator
{
    /// <summary>Keys a message may have.</summary>
    public static readonly IReadOnlySet<string> KnownMessageKeys = new HashSet<string> { "role", "content", "name", "function_call", "tool_calls", "tool_call_id", "weight" };

    /// <summary>Roles a message may have.</summary>
    public static readonly IReadOnlySet<string> KnownRoles = new HashSet<string> { "system", "user", "assistant", "function", "tool" };

    /// <summary>Validates every row; <paramref name="countTokens"/> defaults to <see cref="TokenCounters.Whitespace"/>.</summary>
    public static ChatValidationReport Validate(Dataset data, Func<string, int>? countTokens = null, int contextLimit = 16385)
    {
        var count = countTokens ?? TokenCounters.Whitespace;
        var issues = new List<ChatIssue>();
        var tokens = new List<int>();
        var assistant = new List<int>();
        var over = new List<(int, int)>();
        foreach (var row in data.Rows)
        {
            var rowIssues = Check(row.Fields, row.Line);
            issues.AddRange(rowIssues);
            if (rowIssues.Count > 0) continue;
            int total = 3, answer = 0;
            foreach (var m in (JsonArray)row.Fields["messages"]!)
            {
                var o = (JsonObject)m!;
                int n = count((string)o["content"]!);
                total += 3 + n + (o.ContainsKey("name") ? 1 : 0);
                if ((string?)o["role"] == "assistant") answer += n;
            }
            tokens.Add(total);
            assistant.Add(answer);
            if (total > contextLimit) over.Add((row.Line, total));
        }
        foreach (var bad in data.InvalidRows) issues.Add(new ChatIssue(bad.Line, "data_type", bad.Error));
        return new ChatValidationReport
        {
            Issues = issues.OrderBy(i => i.Line).ToList(),
            Tokens = TokenStats.Of(tokens),
            TokenCounts = tokens,
            AssistantTokens = TokenStats.Of(assistant),
            OverContextLimit = over,
        };
    }

    /// <summary>The format problems of one row (empty when it is well formed).</summary>
    public static List<ChatIssue> Check(JsonNode? row, int line)
    {
        var issues = new List<ChatIssue>();
        if (row is not JsonObject o) { issues.Add(new(line, "data_type", "row is not a JSON object")); return issues; }
        if (o["messages"] is not JsonArray messages || messages.Count == 0)
        {
            issues.Add(new(line, "missing_messages_list", "'messages' is missing, empty or not a list"));
            return issues;
        }
        bool hasAssistant = false;
        for (int i = 0; i < messages.Count; i++)
        {
            if (messages[i] is not JsonObject m) { issues.Add(new(line, "data_type", $"message {i} is not an object")); continue; }
            if (!m.ContainsKey("role") || !m.ContainsKey("content"))
                issues.Add(new(line, "message_missing_key", $"message {i} lacks {(m.ContainsKey("role") ? "'content'" : "'role'")}"));
            foreach (var key in m.Select(p => p.Key).Where(k => !KnownMessageKeys.Contains(k)))
                issues.Add(new(line, "message_unrecognized_key", $"message {i} has unknown key '{key}'"));
            var role = m["role"] is JsonValue rv && rv.TryGetValue<string>(out var r) ? r : null;
            if (m.ContainsKey("role") && (role is null || !KnownRoles.Contains(role)))
                issues.Add(new(line, "unrecognized_role", $"message {i} has role {m["role"]?.ToJsonString() ?? "null"}"));
            if (m.ContainsKey("content") && (m["content"] is not JsonValue cv || !cv.TryGetValue<string>(out var c) || string.IsNullOrWhiteSpace(c))
                && !(role == "assistant" && (m.ContainsKey("function_call") || m.ContainsKey("tool_calls"))))
                issues.Add(new(line, "missing_content", $"message {i} has no text content"));
            if (role == "assistant") hasAssistant = true;
        }
        if (!hasAssistant) issues.Add(new(line, "example_missing_assistant_message", "no assistant message to learn from"));
        return issues;
    }
}
