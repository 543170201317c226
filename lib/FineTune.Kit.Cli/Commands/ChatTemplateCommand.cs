using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Text;

namespace FineTune.Kit.Cli.Commands;

/// <summary>`ftk chat-template`: renders a conversation with a tokenizer folder's chat template, exactly as the model sees it.</summary>
internal static class ChatTemplateCommand
{
    public static Command Create()
    {
        var tokenizer = Cli.Required<string>("--tokenizer", "Tokenizer folder (chat_template.jinja or tokenizer_config.json)");
        var messages = Cli.Required<string>("--messages", "JSON file: {\"messages\": [...], ...extra template variables such as tools}");
        var generationPrompt = new Option<bool>("--add-generation-prompt") { Description = "End with the header of an assistant turn" };
        var template = new Option<string?>("--template")
        {
            Description = "A named template of the folder (e.g. tool_use), or a built-in one: chatml, llama3, plain",
        };
        var command = new Command("chat-template", "Render a conversation with a model's chat template (prints the text exactly)")
        {
            tokenizer, messages, generationPrompt, template,
        };
        command.Handle(parse =>
        {
            var path = parse.GetValue(messages)!;
            var file = ReadMessagesFile(path);
            var chat = ChatTemplate.FromTokenizerFolder(parse.GetValue(tokenizer)!, parse.GetValue(template));
            var rendered = chat.Render((JsonArray)file["messages"]!, parse.GetValue(generationPrompt), file);
            Console.Out.Write(rendered.Text);
            Console.Out.Flush();
            return 0;
        });
        return command;
    }

    private static JsonObject ReadMessagesFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"messages file '{path}' does not exist");
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON (line {(e.LineNumber ?? 0) + 1}): {e.Message}", e); }
        if (node is not JsonObject obj) throw new InvalidDataException($"{path}: expected an object {{\"messages\": [...]}}");
        if (obj["messages"] is not JsonArray list) throw new InvalidDataException($"{path}: expected \"messages\" to be an array of message objects");
        for (var i = 0; i < list.Count; i++)
            if (list[i] is not JsonObject) throw new InvalidDataException($"{path}: messages[{i}] is not an object");
        return obj;
    }
}
