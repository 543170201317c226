using System.Text.Json.Nodes;
using FineTune.Kit.Tests.Text.Oracle;
using FineTune.Kit.Text;
using FineTune.Kit.Text.Jinja;

namespace FineTune.Kit.Tests.Text;

/// <summary>
/// The kit's Jinja interpreter against npm @huggingface/jinja 0.5.11 on the project's own chat templates (shaped like
/// Qwen's, Llama 3's and Gemma's, plus one with generation blocks and one exercising every construct) and
/// conversations (system prompts, multi-turn, tools, generation prompt, content parts, a broken alternation).
/// </summary>
public class ChatTemplateConformanceTests
{
    private static string Fixtures => TextFixtures.ChatTemplates;

    private static readonly (string Template, string[] Conversations, Dictionary<string, string> Tokens)[] Matrix =
    [
        ("qwen-style.jinja", ["single-turn", "system-multi-turn", "prompt-only", "tools"], new() { ["eos_token"] = "<|im_end|>" }),
        ("llama3-style.jinja", ["single-turn", "system-multi-turn", "prompt-only", "tools"],
            new() { ["bos_token"] = "<|begin_of_text|>", ["eos_token"] = "<|eot_id|>" }),
        ("gemma-style.jinja", ["single-turn", "system-multi-turn", "prompt-only", "multimodal-parts", "not-alternating"],
            new() { ["bos_token"] = "<bos>", ["eos_token"] = "<eos>" }),
        ("chatml-generation.jinja", ["single-turn", "system-multi-turn", "prompt-only"], new() { ["eos_token"] = "<|im_end|>" }),
        ("feature-zoo.jinja", ["single-turn", "system-multi-turn", "prompt-only", "tools"], new()),
    ];

    [NodeOracleFact]
    public void RenderingMatchesTheJavaScriptReferenceExactly()
    {
        var conversations = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures, "conversations.json")))!.AsObject();
        var cases = new List<(string Label, string Source, JsonObject Variables)>();
        foreach (var (file, names, tokens) in Matrix)
        foreach (var name in names)
        foreach (var generationPrompt in new[] { false, true })
        {
            var variables = conversations[name]!.DeepClone().AsObject();
            variables["add_generation_prompt"] = generationPrompt;
            variables.TryAdd("tools", null);
            variables.TryAdd("documents", null);
            foreach (var (k, v) in tokens) variables[k] = v;
            cases.Add(($"{file} × {name} × add_generation_prompt={generationPrompt}", File.ReadAllText(Path.Combine(Fixtures, file)), variables));
        }

        var input = new JsonArray(cases.Select(c => (JsonNode)new JsonObject { ["template"] = c.Source, ["variables"] = c.Variables.DeepClone() }).ToArray());
        var expected = NodeOracle.Run("render-chat.mjs", input).AsArray();

        var failures = new List<string>();
        var errorsSeen = 0;
        for (var i = 0; i < cases.Count; i++)
        {
            var (label, source, variables) = cases[i];
            string? ours = null, ourError = null;
            try
            {
                var vars = variables.ToDictionary(kv => kv.Key, kv => (object?)kv.Value?.DeepClone());
                ours = JinjaTemplate.Parse(source, label).Render(vars).Text;
            }
            catch (JinjaException e) { ourError = e.Message; }
            var theirs = expected[i]!["text"]?.GetValue<string>();
            var theirError = expected[i]!["error"]?.GetValue<string>();
            if (theirError is not null || ourError is not null)
            {
                errorsSeen++;
                if (theirError is null || ourError is null)
                    failures.Add($"{label}: reference {(theirError is null ? "rendered" : "failed: " + theirError)}, kit {(ourError is null ? "rendered" : "failed: " + ourError)}");
                continue;
            }
            if (ours != theirs) failures.Add($"{label}:\n--- reference\n{theirs}\n--- kit\n{ours}\n---");
        }
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
        // The broken alternation must fail in both, with the template's own message in ours.
        Assert.Equal(2, errorsSeen);
    }

    [Fact]
    public void RaiseExceptionNamesTheTemplateLineAndMessage()
    {
        var conversations = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures, "conversations.json")))!.AsObject();
        var template = ChatTemplate.FromJinja(File.ReadAllText(Path.Combine(Fixtures, "gemma-style.jinja")), "gemma-style.jinja");
        var e = Assert.Throws<JinjaException>(() => template.Render(conversations["not-alternating"]!["messages"]!.AsArray()));
        Assert.Contains("gemma-style.jinja: line 15:", e.Message);
        Assert.Contains("Roles must alternate", e.Message);
    }

    [Fact]
    public void GenerationBlocksAndRenderedPrefixesGiveTheSameAssistantSpans()
    {
        var conversations = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures, "conversations.json")))!.AsObject();
        var source = File.ReadAllText(Path.Combine(Fixtures, "chatml-generation.jinja"));
        var withBlocks = ChatTemplate.FromJinja(source, "with blocks");
        var withoutBlocks = ChatTemplate.FromJinja(source.Replace("{% generation %}", "").Replace("{% endgeneration %}", ""), "without blocks");
        var messages = conversations["system-multi-turn"]!["messages"]!.AsArray();

        var a = withBlocks.Render(messages);
        var b = withoutBlocks.Render(messages);
        Assert.Equal(a.Text, b.Text);
        Assert.Equal(
            ["Sorry to hear that! Send me the tracking number.<|im_end|>\n", "Found it: it arrives tomorrow.\nAnything else?<|im_end|>\n"],
            a.AssistantSpans.Select(s => a.Text[s]));
        Assert.Equal(a.AssistantSpans.Select(s => a.Text[s]), b.AssistantSpans.Select(s => b.Text[s]));
        Assert.Equal(a.AssistantSpans, b.AssistantSpans);
    }

    [Fact]
    public void PrefixSpansOfALlamaStyleTemplateEndWithTheTurnMarker()
    {
        var conversations = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures, "conversations.json")))!.AsObject();
        var template = ChatTemplate.FromJinja(File.ReadAllText(Path.Combine(Fixtures, "llama3-style.jinja")), "llama3-style.jinja",
            new Dictionary<string, string> { ["bos_token"] = "<|begin_of_text|>" });
        var r = template.Render(conversations["system-multi-turn"]!["messages"]!.AsArray());
        Assert.StartsWith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nKnowledge cutoff: June 2026\nToday: 4 Dec 2026\n\nYou answer briefly.", r.Text);
        Assert.Equal(
            ["Sorry to hear that! Send me the tracking number.<|eot_id|>", "Found it: it arrives tomorrow.\nAnything else?<|eot_id|>"],
            r.AssistantSpans.Select(s => r.Text[s]));
    }
}
