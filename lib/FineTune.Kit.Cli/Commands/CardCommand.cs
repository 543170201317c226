using System.CommandLine;
using FineTune.Kit.Audit;

namespace FineTune.Kit.Cli.Commands;

/// <summary>
/// `ftk card --model DIR [--adapter DIR] [--eval DIR] [--audit DIR] [--curation DIR] --out DIR`: a Hugging Face model
/// card (README.md with YAML front matter and a model-index) written from the files the kit's commands wrote.
/// </summary>
internal static class CardCommand
{
    public static Command Create()
    {
        var model = Cli.Required<string>("--model", "Hugging Face model folder (config.json + *.safetensors)").ExistingFolder();
        var adapters = new Option<string[]>("--adapter") { Description = "Training folder(s) of ftk train: adapter_config.json, history.json, prompt.json", AllowMultipleArgumentsPerToken = false }.ExistingFolders();
        var eval = Cli.Optional<string?>("--eval", "Folder ftk compare --out wrote (report.json): the measured results", null);
        var audit = Cli.Optional<string?>("--audit", "Folder ftk audit --out wrote (report.json): bias and leakage results", null);
        var curation = Cli.Optional<string?>("--curation", "Folder ftk curate wrote (report.json): rows in and out per rule", null);
        var license = Cli.Optional<string?>("--license", "License id for the front matter (e.g. apache-2.0); without it: unknown", null);
        var datasets = new Option<string[]>("--dataset") { Description = "Hugging Face dataset id for the front matter (repeatable); default: the curated file's name", AllowMultipleArgumentsPerToken = false };
        var name = Cli.Optional<string?>("--name", "The model's name (default: the adapter's or the model's folder name)", null);
        var approach = Cli.Optional<string?>("--approach", "Which approach of the evaluation is this model (default: the one LoRA approach)", null);
        var intended = Cli.Optional<string?>("--intended-use", "What the model is for (replaces the default paragraph)", null);
        var outOfScope = Cli.Optional<string?>("--out-of-scope", "What the model must not be used for (replaces the default paragraph)", null);
        var shipped = Cli.Optional("--shipped-as", "adapter, model or gguf (default: adapter when --adapter is given, else model)", "auto")
            .OneOf("auto", "adapter", "model", "gguf");
        var output = Cli.Required<string>("--out", "Folder for README.md").FolderToWrite();
        var command = new Command("card", "Write a Hugging Face model card (README.md) from the files the kit wrote");
        foreach (var o in new Option[] { model, adapters, eval, audit, curation, license, datasets, name, approach, intended, outOfScope, shipped, output })
            command.Options.Add(o);
        command.Handle(parse =>
        {
            var card = Build(parse.GetValue(model)!, parse.GetValue(adapters) ?? []);
            if (Report(parse, eval, "ftk compare --out") is { } e) card.Evaluation(e);
            if (Report(parse, audit, "ftk audit --out") is { } a) card.Audit(a);
            if (Report(parse, curation, "ftk curate --out") is { } c) card.Curation(c);
            if (parse.GetValue(license) is { } l) card.License(l);
            foreach (var d in parse.GetValue(datasets) ?? []) card.Dataset(d);
            if (parse.GetValue(name) is { } n) card.Name(n);
            if (parse.GetValue(approach) is { } ap) card.Approach(ap);
            if (parse.GetValue(intended) is { } i) card.IntendedUse(i);
            if (parse.GetValue(outOfScope) is { } oos) card.OutOfScope(oos);
            switch (parse.GetValue(shipped))
            {
                case "adapter": card.Shipped(ShippedAs.Adapter); break;
                case "model": card.Shipped(ShippedAs.Model); break;
                case "gguf": card.Shipped(ShippedAs.Gguf); break;
            }
            var path = card.Save(parse.GetValue(output)!);
            var metrics = card.ModelIndexMetrics;
            Console.WriteLine($"wrote {Path.GetFullPath(path)} ({(metrics.Count == 0 ? "no model-index: no evaluation result" : $"model-index: {string.Join(", ", metrics.Select(m => m.Name))}")})");
            return 0;
        });
        return command;
    }

    /// <summary>The value of a report option, refused with the option's name when it is neither a folder nor a file.</summary>
    private static string? Report(ParseResult parse, Option<string?> option, string writer)
    {
        var path = parse.GetValue(option);
        if (path is null || Directory.Exists(path) || File.Exists(path)) return path;
        throw new ArgumentException($"{option.Name} {path}: no such folder or file (expected the folder {writer} wrote, with report.json)");
    }

    private static ModelCard Build(string model, IEnumerable<string> adapters)
    {
        var card = ModelCard.For(model);
        foreach (var a in adapters) card.Adapter(a);
        return card;
    }

    /// <summary>
    /// The card `ftk merge` and `ftk export` write beside what they produced: what the model and training folders say.
    /// A README.md there that the kit did not write is kept, with a note on stderr; a card that cannot be written never
    /// fails the merge or export itself, which has already succeeded.
    /// </summary>
    internal static void WriteAlongside(ParseResult parse, string model, IEnumerable<string> adapters, string directory, ShippedAs shipped, string? ggufFile = null)
    {
        try
        {
            var card = Build(model, adapters);
            card.Name(ggufFile is null ? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory))) : Path.GetFileNameWithoutExtension(ggufFile));
            if (ggufFile is not null) card.Gguf(ggufFile);
            else card.Shipped(shipped);
            Console.WriteLine($"wrote model card {Path.GetFullPath(card.Save(directory))} (`ftk card` adds evaluation and audit results)");
        }
        catch (Exception e) when (e is IOException or KitException or ArgumentException or UnauthorizedAccessException or InvalidOperationException)
        {
            Cli.Note(parse, $"no model card written: {Program.OneLine(e.Message)}");
        }
    }
}
