using System.CommandLine;

namespace FineTune.Kit.Cli.Commands;

/// <summary>`ftk merge --model DIR --adapter DIR --out DIR`: a plain Hugging Face folder with the adapter merged in.</summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var output = Cli.Required<string>("--out", "Folder for the merged model (not the base model's or an adapter's folder)").FolderToWrite();
        var command = new Command("merge", "Merge a LoRA adapter into its base model and save a plain model folder");
        foreach (var o in m.All().Append(output)) command.Options.Add(o);
        // the merged model replaces what is in --out: the base model or an adapter there would be overwritten in place
        command.Validators.Add(c =>
        {
            if (c.GetValue(output) is not { } outDir) return;
            if (SameFolder(outDir, c.GetValue(m.Model)))
                c.AddError($"--out {outDir} is the --model folder; the merged model would overwrite the base model, so give another folder");
            else if ((c.GetValue(m.Adapters) ?? []).FirstOrDefault(a => SameFolder(outDir, a)) is { } adapter)
                c.AddError($"--out {outDir} is the --adapter folder {adapter}; the merged model would overwrite the adapter, so give another folder");
        });
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
            CardCommand.WriteAlongside(parse, parse.GetValue(m.Model)!, parse.GetValue(m.Adapters)!, parse.GetValue(output)!, Audit.ShippedAs.Model);
            return 0;
        });
        return command;
    }

    private static bool SameFolder(string a, string? b) => b is not null &&
        string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(a)), Path.TrimEndingDirectorySeparator(Path.GetFullPath(b)),
            OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
}
