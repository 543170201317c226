using System.CommandLine;
using FineTune.Kit.Serving;

namespace FineTune.Kit.Cli.Commands;

/// <summary>
/// `ftk export --model DIR [--adapter DIR] --format gguf --type f32|f16|q8_0 --out FILE.gguf`: a GGUF file for
/// llama.cpp, Ollama and LM Studio (adapters merged first), and an Ollama Modelfile beside it.
/// </summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var format = Cli.Optional("--format", "Output format (gguf)", "gguf");
        var type = Cli.Optional("--type", "Weight storage: f32, f16 or q8_0", "f16");
        var output = Cli.Required<string>("--out", "The GGUF file to write");
        var name = new Option<string>("--name") { Description = "general.name in the file (defaults to the model folder's name)" };
        var command = new Command("export", "Export a model (with adapters merged) to GGUF for llama.cpp, Ollama and LM Studio");
        foreach (var o in m.All().Concat<Option>([format, type, output, name])) command.Options.Add(o);
        command.Handle(parse =>
        {
            if (parse.GetValue(format) is not "gguf") throw new ArgumentException($"--format '{parse.GetValue(format)}' is not supported (expected gguf).");
            var fileType = GgufExporter.ParseType(parse.GetValue(type)!);
            var path = parse.GetValue(output)!;
            if (Directory.Exists(path)) throw new ArgumentException($"--out '{path}' is a folder; give the GGUF file to write.");
            using var model = Models.CausalLM.Load(parse.GetValue(m.Model)!, new Models.LoadOptions { Device = parse.GetValue(m.Device)! });
            foreach (var dir in parse.GetValue(m.Adapters) ?? []) Lora.LoraExtensions.LoadAdapter(model, dir).MergeAndUnload();
            var modelfile = GgufExporter.Export(model, path, fileType, parse.GetValue(name));
            Console.WriteLine($"wrote {Path.GetFullPath(path)} ({new FileInfo(path).Length:N0} bytes, {fileType}) and {modelfile}");
            CardCommand.WriteAlongside(parse, parse.GetValue(m.Model)!, parse.GetValue(m.Adapters) ?? [], Path.GetDirectoryName(Path.GetFullPath(path))!, Audit.ShippedAs.Gguf, path);
            return 0;
        });
        return command;
    }
}
