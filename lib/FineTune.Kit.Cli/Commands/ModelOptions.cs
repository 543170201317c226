using System.CommandLine;
using FineTune.Kit.Lora;
using FineTune.Kit.Models;

namespace FineTune.Kit.Cli.Commands;

/// <summary>The options every model command shares: --model, --adapter and --device.</summary>
internal sealed class ModelOptions
{
    public Option<string> Model { get; } = Cli.Required<string>("--model", "Hugging Face model folder (config.json + *.safetensors + tokenizer)").ExistingFolder();
    public Option<string[]> Adapters { get; } = new Option<string[]>("--adapter") { Description = "PEFT LoRA adapter folder(s) to apply", AllowMultipleArgumentsPerToken = false }.ExistingFolders();
    public Option<string> Device { get; } = Cli.Optional("--device", "auto, cpu or cuda", "auto");

    /// <summary>Creates the options; <paramref name="modelRequired"/> false for commands that can also work without a model.</summary>
    public ModelOptions(bool modelRequired = true) => Model.Required = modelRequired;

    public IEnumerable<Option> All(bool withAdapter = true) => withAdapter ? [Model, Adapters, Device] : [Model, Device];

    /// <summary>Loads the model, and the adapter when one is given.</summary>
    public CausalLM Load(ParseResult parse)
    {
        var model = CausalLM.Load(parse.GetValue(Model)!, new LoadOptions { Device = parse.GetValue(Device)! });
        foreach (var adapter in parse.GetValue(Adapters) ?? []) model.LoadAdapter(adapter);
        return model;
    }
}
