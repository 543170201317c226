using System.Text.Json.Nodes;
using FineTune.Kit.Tests.Text;
using FineTune.Kit.Text;

namespace FineTune.Kit.Tests.Cli;

/// <summary>The CLI contract of `ftk chat-template` and `ftk tokenizer encode --json`.</summary>
public class HubTextCommandTests
{
    private const string Template =
        "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}" +
        "{% if tools %}tools: {{ tools | map(attribute='name') | join(', ') }}\n{% endif %}" +
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

    private static (string Dir, string Messages) Folder(Action<string>? addTemplate = null)
    {
        var dir = TestCorpus.SaveToTemp(new TokenizerConfig { BosToken = "<|endoftext|>", EosToken = "<|im_end|>", ChatTemplate = Template });
        addTemplate?.Invoke(dir);
        var messages = Path.Combine(dir, "messages.json");
        File.WriteAllText(messages, """{"messages": [{"role": "user", "content": "héllo 👋"}], "tools": [{"name": "clock"}, {"name": "map"}]}""");
        return (dir, messages);
    }

    [Fact]
    public void ChatTemplatePrintsTheRenderedTextExactly()
    {
        var (dir, messages) = Folder();
        var (exit, output, err) = CliRunner.Run("chat-template", "--tokenizer", dir, "--messages", messages);
        Assert.True(exit == 0, err);
        Assert.Equal("<|im_start|>user\nhéllo 👋<|im_end|>\ntools: clock, map\n", output);
        (exit, output, err) = CliRunner.Run("chat-template", "--tokenizer", dir, "--messages", messages, "--add-generation-prompt");
        Assert.True(exit == 0, err);
        Assert.Equal("<|im_start|>user\nhéllo 👋<|im_end|>\ntools: clock, map\n<|im_start|>assistant\n", output);
    }

    [Fact]
    public void ChatTemplatePrefersChatTemplateJinjaAndNamesBuiltInsAndListedTemplates()
    {
        var (dir, messages) = Folder(d => File.WriteAllText(Path.Combine(d, "chat_template.jinja"), "{{ messages[0].content | upper }}\n"));
        var (exit, output, _) = CliRunner.Run("chat-template", "--tokenizer", dir, "--messages", messages);
        Assert.Equal(0, exit);
        Assert.Equal("HÉLLO 👋", output); // the template's one trailing newline is dropped, as Jinja does
        (exit, output, _) = CliRunner.Run("chat-template", "--tokenizer", dir, "--messages", messages, "--template", "llama3");
        Assert.Equal(0, exit);
        Assert.Equal("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhéllo 👋<|eot_id|>", output);

        var config = Path.Combine(dir, "tokenizer_config.json");
        var json = JsonNode.Parse(File.ReadAllText(config))!.AsObject();
        json["chat_template"] = new JsonArray(
            new JsonObject { ["name"] = "default", ["template"] = "default:{{ messages | length }}" },
            new JsonObject { ["name"] = "tool_use", ["template"] = "tools:{{ tools | length }}" });
        File.WriteAllText(config, json.ToJsonString());
        File.Delete(Path.Combine(dir, "chat_template.jinja"));
        Assert.Equal("default:1", CliRunner.Run("chat-template", "--tokenizer", dir, "--messages", messages).Out);
        Assert.Equal("tools:2", CliRunner.Run("chat-template", "--tokenizer", dir, "--messages", messages, "--template", "tool_use").Out);
        var bad = CliRunner.Run("chat-template", "--tokenizer", dir, "--messages", messages, "--template", "rag");
        Assert.Equal(1, bad.Exit);
        Assert.Contains("no chat template named 'rag'", bad.Err);
        Assert.Contains("tool_use", bad.Err);
    }

    [Fact]
    public void ChatTemplateErrorsNameTheLineAndConstruct()
    {
        var (dir, messages) = Folder(d => File.WriteAllText(Path.Combine(d, "chat_template.jinja"), "line one\n{% for m in messages %}\n{{ m.content | shout }}\n{% endfor %}"));
        var (exit, output, err) = CliRunner.Run("chat-template", "--tokenizer", dir, "--messages", messages);
        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.Contains("chat_template.jinja: line 3: '{{ }}' expression: filter 'shout': unknown filter", err);
        Assert.Single(err.Trim().Split('\n'));

        File.WriteAllText(Path.Combine(dir, "chat_template.jinja"), "{% if messages %}\nopen\n");
        (exit, _, err) = CliRunner.Run("chat-template", "--tokenizer", dir, "--messages", messages);
        Assert.Equal(1, exit);
        Assert.Contains("line 1: '{% if %}': is never closed (expected '{% elif %}' or '{% else %}' or '{% endif %}')", err);
    }

    [Fact]
    public void TokenizerEncodeJsonPrintsIdsAndTokens()
    {
        var (dir, _) = Folder();
        var tok = TextTokenizer.Load(dir);
        var (exit, output, err) = CliRunner.Run("tokenizer", "encode", "--tokenizer", dir, "--text", "Hello there<|im_end|>", "--json");
        Assert.True(exit == 0, err);
        var json = JsonNode.Parse(output)!.AsObject();
        var ids = json["ids"]!.AsArray().Select(n => n!.GetValue<int>()).ToList();
        Assert.Equal(tok.Encode("Hello there<|im_end|>"), ids);
        Assert.Equal(ids.Select(id => tok.IdToToken(id)), json["tokens"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(tok.TokenToId("<|im_end|>"), ids[^1]);
        Assert.StartsWith("{\"ids\": [", output);

        var withBos = TestCorpus.SaveToTemp(new TokenizerConfig { BosToken = "<|endoftext|>", AddBosToken = true });
        var (_, plain, _) = CliRunner.Run("tokenizer", "encode", "--tokenizer", withBos, "--text", "Hello", "--json");
        var (_, special, _) = CliRunner.Run("tokenizer", "encode", "--tokenizer", withBos, "--text", "Hello", "--json", "--add-special-tokens");
        var plainIds = JsonNode.Parse(plain)!["ids"]!.AsArray().Select(n => n!.GetValue<int>()).ToList();
        var specialIds = JsonNode.Parse(special)!["ids"]!.AsArray().Select(n => n!.GetValue<int>()).ToList();
        Assert.Equal([tok.TokenToId("<|endoftext|>")!.Value, .. plainIds], specialIds);
    }
}
