using System.CommandLine;
using FineTune.Kit.Sample;
using FineTune.Kit.Training;
using Spectre.Console;

namespace FineTune.Kit.Cli.Commands;

/// <summary>`ftk pretrain`: trains a small Llama-family model from scratch and writes a Hugging Face folder.</summary>
internal static class PretrainCommand
{
    public static Command Create()
    {
        var corpus = Cli.Required<string>("--corpus", "Text corpus; documents separated by lines holding <|endoftext|>");
        var corpusFile = corpus.ExistingFile();
        var output = Cli.Required<string>("--out", "Model folder to write").FolderToWrite();
        var d = new PretrainOptions();
        var shape = new ModelShapeOptions(d.Layers, d.Hidden, d.Heads, d.KvHeads, d.Ffn, d.VocabSize);
        var t = new TrainingOptions(d.Steps, d.LearningRate, d.BatchSize, d.SeqLen, d.Seed);
        var command = new Command("pretrain", "Pre-train a small Llama-family model from scratch on a corpus") { corpusFile, output };
        foreach (var o in shape.All.Concat<Option>([t.SeqLen, t.Steps, t.BatchSize, t.LearningRate, t.Seed])) command.Options.Add(o);
        shape.CheckHeads(command);
        command.Handle(parse =>
        {
            var path = parse.GetValue(corpus)!;
            var documents = SampleData.ReadCorpusDocuments(path).ToList();
            var options = new PretrainOptions
            {
                Layers = parse.GetValue(shape.Layers), Hidden = parse.GetValue(shape.Hidden), Heads = parse.GetValue(shape.Heads),
                KvHeads = parse.GetValue(shape.KvHeads), Ffn = parse.GetValue(shape.Ffn), VocabSize = parse.GetValue(shape.VocabSize),
                SeqLen = parse.GetValue(t.SeqLen), Steps = parse.GetValue(t.Steps)!.Value, BatchSize = parse.GetValue(t.BatchSize),
                LearningRate = parse.GetValue(t.LearningRate), Seed = parse.GetValue(t.Seed),
                Command = "ftk " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
            };
            PretrainResult? result = null;
            Progress.Run($"pre-training on {documents.Count:N0} documents", options.Steps,
                report => result = Pretraining.Run(documents, parse.GetValue(output)!, options, report));
            Cli.Out.MarkupLine($"[green]wrote[/] {Markup.Escape(Path.GetFullPath(result!.Directory))}: {result.Parameters:N0} parameters, " +
                                   $"held-out perplexity {result.HeldOutPerplexity:F2} (unigram {result.UnigramPerplexity:F1}), {result.Elapsed.TotalMinutes:F1} min");
            return 0;
        });
        return command;
    }
}
