using System.Text;
using FineTune.Kit.Io;
using FineTune.Kit.Text;

namespace FineTune.Kit.Serving;

/// <summary>
/// An Ollama <c>Modelfile</c> for an exported GGUF: <c>FROM</c> the file, a <c>TEMPLATE</c> in Ollama's Go-template
/// syntax equivalent to the model's chat template, and a <c>PARAMETER stop</c> for each token that ends a turn.
/// </summary>
public static class OllamaModelfile
{
    /// <summary>The Modelfile text for a GGUF file name and the model's tokenizer.</summary>
    public static string Render(string ggufFileName, TextTokenizer tokenizer)
    {
        var sb = new StringBuilder();
        sb.Append("FROM ./").Append(ggufFileName).Append('\n');
        var jinja = tokenizer.Config.ChatTemplate;
        var template = ModelChatTemplate.TryFor(jinja);
        var stops = new List<string>();
        if (template == ChatTemplate.ChatMl)
        {
            sb.Append("TEMPLATE \"\"\"{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n\"\"\"\n");
            stops.Add("<|im_end|>");
        }
        else if (template == ChatTemplate.Llama3)
        {
            sb.Append("TEMPLATE \"\"\"<|begin_of_text|>{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n\"\"\"\n");
            stops.Add("<|eot_id|>");
        }
        else if (template == ChatTemplate.Plain)
        {
            sb.Append("TEMPLATE \"\"\"{{- range .Messages }}{{ if eq .Role \"system\" }}System: {{ else if eq .Role \"user\" }}User: {{ else }}Assistant: {{ end }}{{ .Content }}\n{{ end }}Assistant: \"\"\"\n");
            stops.Add("User:");
        }
        else
            // Ollama reads tokenizer.chat_template from the GGUF itself when the Modelfile gives no TEMPLATE
            sb.Append("# the model's chat template (tokenizer.chat_template in the GGUF) has no Go-template translation here\n");
        if (tokenizer.EosId is { } eos && tokenizer.IdToToken(eos) is { } eosText && tokenizer.IsSpecial(eos)) stops.Add(eosText);
        foreach (var stop in stops.Distinct())
            sb.Append("PARAMETER stop \"").Append(stop.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n")).Append("\"\n");
        return sb.ToString();
    }

    /// <summary>Writes <c>Modelfile</c> next to a GGUF file (atomically) and returns its path.</summary>
    public static string Write(string ggufPath, TextTokenizer tokenizer)
    {
        var full = Path.GetFullPath(ggufPath);
        var path = Path.Combine(Path.GetDirectoryName(full)!, "Modelfile");
        AtomicFile.WriteAllText(path, Render(Path.GetFileName(full), tokenizer));
        return path;
    }
}
