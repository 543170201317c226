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
        var output = Cli.Required<string>("--out", "Model folder to write");
        var d = new PretrainOptions();
        var layers = Cli.Optional("--layers", "Transformer blocks", d.Layers);
        var hidden = Cli.Optional("--hidden", "Residual width", d.Hidden);
        var heads = Cli.Optional("--heads", "Query heads", d.Heads);
        var kvHeads = Cli.Optional("--kv-heads", "Key/value heads", d.KvHeads);
        var ffn = Cli.Optional("--ffn", "MLP width", d.Ffn);
        var vocab = Cli.Optional("--vocab-size", "BPE vocabulary trained on the corpus", d.VocabSize);
        var seq = Cli.Optional("--seq-len", "Training sequence length", d.SeqLen);
        var steps = Cli.Optional("--steps", "Optimizer steps", d.Steps);
        var batch = Cli.Optional("--batch-size", "Sequences per step", d.BatchSize);
        var lr = Cli.Optional("--lr", "Peak learning rate", d.LearningRate);
        var seed = Cli.Optional("--seed", "Seed", d.Seed);
        var command = new Command("pretrain", "Pre-train a small Llama-family model from scratch on a corpus")
        {
            corpus, output, layers, hidden, heads, kvHeads, ffn, vocab, seq, steps, batch, lr, seed,
        };
        command.Handle(parse =>
        {
            var path = parse.GetValue(corpus)!;
            if (!File.Exists(path)) throw new FileNotFoundException($"corpus {path} not found (make the sample one with `ftk sample`).");
            var documents = SampleData.ReadCorpusDocuments(path).ToList();
            var options = new PretrainOptions
            {
                Layers = parse.GetValue(layers), Hidden = parse.GetValue(hidden), Heads = parse.GetValue(heads),
                KvHeads = parse.GetValue(kvHeads), Ffn = parse.GetValue(ffn), VocabSize = parse.GetValue(vocab),
                SeqLen = parse.GetValue(seq), Steps = parse.GetValue(steps), BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(lr), Seed = parse.GetValue(seed),
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
