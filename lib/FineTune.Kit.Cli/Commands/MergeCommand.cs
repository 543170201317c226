using System.CommandLine;

namespace FineTune.Kit.Cli.Commands;

/// <summary>`ftk merge --model DIR --adapter DIR --out DIR`: a plain Hugging Face folder with the adapter merged in.</summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var output = Cli.Required<string>("--out", "Folder for the merged model");
        var command = new Command("merge", "Merge a LoRA adapter into its base model and save a plain model folder");
        foreach (var o in m.All().Append(output)) command.Options.Add(o);
        command.Handle(parse =>
        {
            if ((parse.GetValue(m.Adapters) ?? []).Length == 0) throw new ArgumentException("--adapter is required for merge");
            var model = Models.CausalLM.Load(parse.GetValue(m.Model)!, new Models.LoadOptions { Device = parse.GetValue(m.Device)! });
            using (model)
            {
                foreach (var dir in parse.GetValue(m.Adapters)!) Lora.LoraExtensions.LoadAdapter(model, dir).MergeAndUnload();
                model.Save(parse.GetValue(output)!);
            }
            // the prompt a classifier adapter was trained with travels to the merged model (the last adapter's, if several)
            if (parse.GetValue(m.Adapters)!.Select(Prompting.PromptFile.TryLoad).LastOrDefault(t => t is not null) is { } prompt)
                Prompting.PromptFile.Save(prompt, parse.GetValue(output)!);
            Console.WriteLine($"wrote merged model to {Path.GetFullPath(parse.GetValue(output)!)}");
            return 0;
        });
        return command;
    }
}
