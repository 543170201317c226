using System.CommandLine;
using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Text.Json;
using FineTune.Kit.Text;

namespace FineTune.Kit.Cli.Commands;

/// <summary>`ftk tokenizer train|encode`: trains a byte-level BPE tokenizer, or shows how a tokenizer splits text.</summary>
internal static class TokenizerCommand
{
    public static Command Create()
    {
        var command = new Command("tokenizer", "Train or inspect a byte-level BPE tokenizer");
        command.Subcommands.Add(Train());
        command.Subcommands.Add(Encode());
        return command;
    }

    private static Command Train()
    {
        var corpus = Cli.Required<string>("--corpus", "UTF-8 text file to train on").ExistingFile();
        var output = Cli.Required<string>("--out", "Folder to write tokenizer.json, vocab.json, merges.txt, tokenizer_config.json").FolderToWrite();
        var vocabSize = Cli.Optional("--vocab-size", "Vocabulary size, special tokens and 256 byte symbols included", 4096, "--vocab").AtLeast(260);
        var minFrequency = Cli.Optional("--min-frequency", "Stop when the best pair occurs fewer times", 2).AtLeast(1);
        var special = Cli.Optional("--special", "Comma-separated special tokens (ids 0, 1, ...)", "<|endoftext|>,<|im_start|>,<|im_end|>");
        var chatTemplate = Cli.Optional("--chat-template", "Chat template written to tokenizer_config.json (chatml, llama3, plain, none)", "chatml");
        var command = new Command("train", "Train a byte-level BPE tokenizer on a corpus")
        {
            corpus, output, vocabSize, minFrequency, special, chatTemplate,
        };
        command.Handle(parse =>
        {
            var specials = parse.GetValue(special)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var templateName = parse.GetValue(chatTemplate)!;
            var template = templateName == "none" ? null : ChatTemplate.Named(templateName);
            var missing = template?.SpecialTokens.Where(t => !specials.Contains(t)).ToList() ?? [];
            if (missing.Count > 0)
                throw new ArgumentException($"the {template!.Name} chat template needs special tokens {string.Join(", ", missing)}; add them to --special or pass --chat-template none");

            var clock = Stopwatch.StartNew();
            var model = new BpeTrainer()
                .VocabSize(parse.GetValue(vocabSize))
                .MinFrequency(parse.GetValue(minFrequency))
                .SpecialTokens(specials)
                .TrainOnFile(parse.GetValue(corpus)!);
            var first = specials.FirstOrDefault();
            var dir = parse.GetValue(output)!;
            model.Save(dir, new TokenizerConfig
            {
                BosToken = first, EosToken = template == ChatTemplate.ChatMl ? "<|im_end|>" : first, PadToken = first,
                ChatTemplate = template?.Jinja,
            });
            Console.WriteLine($"trained {model.VocabSize} tokens ({model.Merges.Count} merges) in {clock.Elapsed.TotalSeconds:F1} s; wrote {Path.GetFullPath(dir)}");
            return 0;
        });
        return command;
    }

    private static Command Encode()
    {
        var tokenizer = Cli.Required<string>("--tokenizer", "Tokenizer folder").ExistingFolder();
        var text = Cli.Required<string>("--text", "Text to encode");
        var json = new Option<bool>("--json") { Description = "Print {\"ids\": [...], \"tokens\": [...]} as JSON" };
        var addSpecial = new Option<bool>("--add-special-tokens") { Description = "Add BOS/EOS as the tokenizer's configuration asks" };
        var command = new Command("encode", "Show the tokens and ids of a text") { tokenizer, text, json, addSpecial };
        command.Handle(parse =>
        {
            var tok = TextTokenizer.Load(parse.GetValue(tokenizer)!);
            var ids = tok.Encode(parse.GetValue(text)!, parse.GetValue(addSpecial));
            if (parse.GetValue(json))
            {
                var relaxed = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
                var tokens = ids.Select(id => JsonSerializer.Serialize(tok.IdToToken(id), relaxed));
                Console.WriteLine($"{{\"ids\": [{string.Join(", ", ids)}], \"tokens\": [{string.Join(", ", tokens)}]}}");
                return 0;
            }
            Console.WriteLine(string.Join(" ", ids.Select(id => $"{tok.IdToToken(id)}:{id}")));
            Console.WriteLine($"{ids.Count} tokens; decodes back exactly: {tok.Decode(ids) == parse.GetValue(text)}");
            return 0;
        });
        return command;
    }
}
