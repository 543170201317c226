using System.Text;
using System.Text.Json.Nodes;
using FineTune.Kit.Tests.Models;

namespace FineTune.Kit.Tests.Cli;

/// <summary>
/// Every command against the bad values a new user tries: each is refused with a non-zero exit and exactly one line
/// on stderr naming the option or file and what was expected, no stack trace, and nothing written to --out.
/// </summary>
public class BadValueTests : IClassFixture<BadValueTests.Files>
{
    /// <summary>The files the table's placeholders stand for, made once.</summary>
    public sealed class Files : IDisposable
    {
        public string Root { get; } = TempFolder.Fresh();
        public string Model { get; }
        public string Adapter { get; }
        public string Data { get; }
        public string AFile { get; }
        public string Notebook { get; }
        public string Utf16 { get; }
        public string Empty { get; }
        public string NumberLabel { get; }
        public string BoolLabel { get; }
        public string NumberText { get; }
        public string HugeLine { get; }
        public string Corpus { get; }

        public Files()
        {
            Model = CliData.SavedTinyModel();
            Adapter = Path.Combine(Root, "adapter");
            Directory.CreateDirectory(Adapter);
            string Write(string name, string text, Encoding? encoding = null)
            {
                var path = Path.Combine(Root, name);
                File.WriteAllText(path, text, encoding ?? new UTF8Encoding(false));
                return path;
            }
            var rows = string.Join("\n", CliData.Tickets(8).Select(t => new JsonObject { ["text"] = t.Text, ["label"] = t.Label }.ToJsonString())) + "\n";
            Data = Write("tickets.jsonl", rows);
            AFile = Write("a-file.txt", "not a folder");
            Notebook = Write("broken.ipynb", "{\"cells\": [\nnot json");
            Utf16 = Write("utf16.jsonl", rows, new UnicodeEncoding(bigEndian: false, byteOrderMark: true));
            Empty = Write("empty.jsonl", "");
            NumberLabel = Write("number-label.jsonl", rows + """{"text": "my parcel is late", "label": 7}""" + "\n");
            BoolLabel = Write("bool-label.jsonl", """{"text": "my parcel is late", "label": true}""" + "\n" + rows);
            NumberText = Write("number-text.jsonl", rows + """{"text": 12345, "label": "refund"}""" + "\n");
            HugeLine = Write("huge-line.jsonl", rows + "{\"text\": \"" + new string('a', FineTune.Kit.Data.Utf8LineReader.MaxLineBytes + 10) + "\"}\n");
            Corpus = Write("corpus.txt", string.Join("\n", CliData.Tickets(40).Select(t => t.Text)));
        }

        public void Dispose()
        {
            try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
        }
    }

    private readonly Files _f;

    public BadValueTests(Files files) => _f = files;

    /// <summary>Command lines with placeholders, and what the one line on stderr must contain.</summary>
    public static TheoryData<string, string> Cases => new()
    {
        // generate: sampling options out of range, and a prompt longer than the model's 128 positions
        { "generate --model {model} --prompt hello --max-new-tokens -1", "--max-new-tokens must be a whole number >= 1, got -1" },
        { "generate --model {model} --prompt hello --new-tokens 0", "--new-tokens must be a whole number >= 1, got 0" },
        { "generate --model {model} --prompt hello --max-new-tokens abc", "'abc'" },
        { "generate --model {model} --prompt hello --temperature -1", "--temperature must be a number >= 0, got -1" },
        { "generate --model {model} --prompt hello --temperature 1 --top-p 1.5", "--top-p must be a number in (0, 1], got 1.5" },
        { "generate --model {model} --prompt hello --temperature 1 --top-p 0", "--top-p must be a number in (0, 1], got 0" },
        { "generate --model {model} --prompt hello --temperature 1 --top-p -0.5", "--top-p must be" },
        { "generate --model {model} --prompt hello --top-k -5", "--top-k must be a whole number >= 0, got -5" },
        { "generate --model {model} --prompt hello --repetition-penalty 0", "--repetition-penalty must be a number > 0, got 0" },
        { "generate --model {model} --prompt hello --seed -1", "--seed must be a whole number >= 0, got -1" },
        { "generate --model {model} --prompt {longprompt}", "the model reads at most 128 positions" },
        { "generate --model {missing} --prompt hello", "--model {missing}: no such folder" },
        { "generate --model {model} --adapter {missing} --prompt hello", "--adapter {missing}: no such folder" },
        { "generate --model {model} --prompt hello --top-pp 3", "'--top-pp'" },
        // score and info
        { "score --model {model} --ids -1,5", "token id -1 is outside the vocabulary" },
        { "score --model {model} --ids 99999", "token id 99999 is outside the vocabulary" },
        { "score --model {model} --ids 5,x", "'x' is not a token id" },
        { "info --model {missing}", "--model {missing}: no such folder" },
        { "info --model {file}", "--model {file}: is a file; expected a folder" },
        // train: settings out of range, bad --out, bad data
        { "train --model {model} --data {data} --out {out} --lr -1", "--lr must be a number > 0, got -1" },
        { "train --model {model} --data {data} --out {out} --lr 0", "--lr must be a number > 0, got 0" },
        { "train --model {model} --data {data} --out {out} --lr nan", "--lr must be a number > 0" },
        { "train --model {model} --data {data} --out {out} --steps 0", "--steps must be a whole number >= 1, got 0" },
        { "train --model {model} --data {data} --out {out} --steps -5", "--steps must be a whole number >= 1, got -5" },
        { "train --model {model} --data {data} --out {out} --epochs 0", "--epochs must be a whole number >= 1, got 0" },
        { "train --model {model} --data {data} --out {out} --steps 1 --epochs 1", "give --steps or --epochs, not both" },
        { "train --model {model} --data {data} --out {out} --batch-size 0", "--batch-size must be a whole number >= 1, got 0" },
        { "train --model {model} --data {data} --out {out} --batch 0", "--batch must be a whole number >= 1, got 0" },
        { "train --model {model} --data {data} --out {out} --batch 2 --batch-size 2", "--batch-size is given twice" },
        { "train --model {model} --data {data} --out {out} --grad-accum 0", "--grad-accum must be a whole number >= 1, got 0" },
        { "train --model {model} --data {data} --out {out} --seq-len 0", "--seq-len must be a whole number >= 2, got 0" },
        { "train --model {model} --data {data} --out {out} --lora-dropout 1.5", "--lora-dropout must be a number in [0, 1), got 1.5" },
        { "train --model {model} --data {data} --out {out} --lora-dropout -0.1", "--lora-dropout must be" },
        { "train --model {model} --data {data} --out {out} --lora-r 0", "--lora-r must be a whole number >= 1, got 0" },
        { "train --model {model} --data {data} --out {out} --lora-alpha -16", "--lora-alpha must be a number > 0, got -16" },
        { "train --model {model} --data {data} --out {out} --seed -1", "--seed must be a whole number >= 0, got -1" },
        { "train --model {model} --data {data} --out {file}", "--out {file}: is a file; expected a folder" },
        { "train --model {model} --data {data} --out {file}/run", "{file} is a file, so no folder can be made inside it" },
        { "train --model {model} --data {empty} --out {out}", "{empty}: the file has no rows" },
        { "train --model {model} --data {utf16} --out {out}", "{utf16}: the file is UTF-16 (byte-order mark FF FE" },
        { "train --model {model} --data {numberlabel} --out {out}", "{numberlabel}:9: 'label' is the number 7; expected a string" },
        { "train --model {model} --data {boollabel} --out {out}", "{boollabel}:1: 'label' is the boolean true; expected a string" },
        { "train --model {model} --data {missing} --out {out}", "--data: {missing} is neither a file nor a folder" },
        // merge
        { "merge --model {model} --adapter {adapter} --out {model}", "is the --model folder; the merged model would overwrite the base model" },
        { "merge --model {model} --adapter {adapter} --out {adapter}", "is the --adapter folder" },
        { "merge --model {model} --adapter {adapter} --out {file}", "--out {file}: is a file; expected a folder" },
        // explain
        { "explain --model {model} --text hi --target x --samples -5", "--samples must be a whole number >= 0, got -5" },
        { "explain --model {model} --text hi --target x --steps 0", "--steps must be a whole number >= 1, got 0" },
        { "explain --model {model} --text hi --target x --seed -1", "--seed must be a whole number >= 0, got -1" },
        { "explain --model {model} --text hi --target x --method magic", "--method must be one of exact, shap, lime, ig, occlusion, attention, got magic" },
        { "explain --model {model} --text hi --target x --out {file}", "--out {file}: is a file; expected a folder" },
        // curate
        { "curate --data {data} --out {file}", "--out {file}: is a file; expected a folder" },
        { "curate --data {data} --out {out} --seed -1", "--seed must be a whole number >= 0, got -1" },
        { "curate --data {data} --out {out} --split 0.8,0.3,0.1", "--split needs three fractions in [0, 1] that add up to 1" },
        { "curate --data {data} --out {out} --split 1.2,-0.1,-0.1", "--split needs three fractions" },
        { "curate --data {data} --out {out} --on-error ignore", "--on-error must be one of fail, skip, got ignore" },
        { "curate --data {missing} --out {out}", "--data {missing}: no such file" },
        { "curate --input {missing} --out {out}", "--input {missing}: no such file" },
        { "curate --data {utf16} --out {out}", "{utf16}: the file is UTF-16" },
        { "curate --data {numberlabel} --out {out}", "{numberlabel}:9: 'label' is the number 7; expected a string" },
        { "curate --data {numbertext} --out {out}", "{numbertext}:9: 'text' is the number 12345; expected a string" },
        { "curate --data {hugeline} --out {out}", "{hugeline}:9: the line is longer than 16 MiB" },
        // compare
        { "compare --model {model} --data {data} --resamples 0", "--resamples must be a whole number >= 1, got 0" },
        { "compare --model {model} --data {data} --level 1.5", "--level must be a number in (0, 1), got 1.5" },
        { "compare --model {model} --data {data} --price-per-second -1", "--price-per-second must be a number >= 0, got -1" },
        { "compare --model {model} --data {data} --seed -1", "--seed must be a whole number >= 0, got -1" },
        { "compare --model {model} --data {data} --out {file}", "--out {file}: is a file; expected a folder" },
        { "compare --model {model} --data {numberlabel} --shots 0", "{numberlabel}:9: 'label' is the number 7" },
        { "compare --model {model} --data {data} --shots 0,-2", "--shots: '-2' is not a number of examples" },
        // notebook run
        { "notebook run {notebook}", "{notebook}: invalid JSON" },
        { "notebook run {notebook} --out {file}", "--out {file}: is a file; expected a folder" },
        { "notebook run {notebook} --timeout 0", "--timeout must be a positive number of seconds" },
        { "notebook run {missing}", "notebook not found: {missing}" },
        // sample, tokenizer, pretrain, demo
        { "sample --out {file}", "--out {file}: is a file; expected a folder" },
        { "sample --out {out} --seed -1", "--seed must be a whole number >= 0, got -1" },
        { "tokenizer train --corpus {corpus} --out {out} --vocab-size 10", "--vocab-size must be a whole number >= 260, got 10" },
        { "tokenizer train --corpus {corpus} --out {out} --min-frequency 0", "--min-frequency must be a whole number >= 1, got 0" },
        { "tokenizer train --corpus {corpus} --out {file}", "--out {file}: is a file; expected a folder" },
        { "tokenizer train --corpus {missing} --out {out}", "--corpus {missing}: no such file" },
        { "tokenizer encode --tokenizer {missing} --text hi", "--tokenizer {missing}: no such folder" },
        { "pretrain --corpus {corpus} --out {out} --steps 0", "--steps must be a whole number >= 1, got 0" },
        { "pretrain --corpus {corpus} --out {out} --lr -1", "--lr must be a number > 0, got -1" },
        { "pretrain --corpus {corpus} --out {out} --heads 3", "--hidden 256 must be a multiple of --heads 3" },
        { "pretrain --corpus {corpus} --out {out} --kv-heads 3", "--heads 4 must be a multiple of --kv-heads 3" },
        { "pretrain --corpus {corpus} --out {file}", "--out {file}: is a file; expected a folder" },
        { "pretrain --corpus {missing} --out {out}", "--corpus {missing}: no such file" },
        { "demo --out {file}", "--out {file}: is a file; expected a folder" },
        { "demo --out {out} --test-examples 0", "--test-examples must be a whole number >= 1, got 0" },
        { "demo --out {out} --epochs 0", "--epochs must be a whole number >= 1, got 0" },
        { "preferences compare --out {file}", "--out {file}: is a file; expected a folder" },
        { "preferences compare --tickets 1", "--tickets must be a whole number >= 2, got 1" },
        { "preferences compare --beta 0", "--beta must be a number > 0, got 0" },
        { "preferences compare --group-size 1", "--group-size must be a whole number >= 2, got 1" },
        { "preferences compare --data {missing}", "--data: {missing}/base-model not found" },
        // bench
        { "bench forward --steps 0", "--steps must be a whole number >= 1, got 0" },
        { "bench forward --batch 0", "--batch must be a whole number >= 1, got 0" },
        { "bench forward --seq 1", "--seq must be a whole number >= 2, got 1" },
        { "bench forward --heads 3", "must be a multiple of --heads 3" },
        { "bench train --lora-r 0", "--lora-r must be a whole number >= 1, got 0" },
        { "bench train --vocab 10", "--vocab must be a whole number >= 260, got 10" },
        { "bench curate --threshold 2", "--threshold must be a number in (0, 1], got 2" },
        { "bench curate-stream --rows 10", "--rows must be at least 1000, got 10" },
        { "bench curate-stream --format csv", "--format must be one of jsonl, parquet, got csv" },
        { "bench explain --model {model} --samples 0", "--samples must be a whole number >= 1, got 0" },
        { "bench explain --model {missing}", "--model {missing}: no such folder" },
        // no command, unknown command
        { "", "`ftk --help` lists the commands" },
        { "trian --model {model}", "'trian'" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Is_refused_in_one_line_naming_what_was_expected(string commandLine, string expected)
    {
        var outDir = Path.Combine(TempFolder.Fresh(), "out");
        var fileBefore = File.ReadAllText(_f.AFile);
        var adapterBefore = Directory.GetFileSystemEntries(_f.Adapter).Length;
        string Fill(string s) => s.Replace("{model}", _f.Model).Replace("{adapter}", _f.Adapter).Replace("{data}", _f.Data)
            .Replace("{out}", outDir).Replace("{file}", _f.AFile).Replace("{notebook}", _f.Notebook).Replace("{utf16}", _f.Utf16)
            .Replace("{empty}", _f.Empty).Replace("{numberlabel}", _f.NumberLabel).Replace("{boollabel}", _f.BoolLabel)
            .Replace("{numbertext}", _f.NumberText).Replace("{hugeline}", _f.HugeLine).Replace("{corpus}", _f.Corpus)
            .Replace("{missing}", Path.Combine(_f.Root, "missing"));
        var args = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(a => a == "{longprompt}" ? string.Join(' ', Enumerable.Repeat("my parcel never arrived", 60)) : Fill(a)).ToArray();

        var (exit, stdout, stderr) = CliRunner.Run(args);

        Assert.True(exit != 0, $"exit 0 for `ftk {commandLine}`; stdout: {stdout}");
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"`ftk {commandLine}` wrote {lines.Length} lines on stderr:\n{stderr}");
        Assert.StartsWith("ftk", lines[0]);
        Assert.Contains(Fill(expected), lines[0]);
        Assert.DoesNotContain("   at ", stderr + stdout);
        Assert.DoesNotContain("Exception", lines[0]);
        Assert.False(Directory.Exists(outDir), $"`ftk {commandLine}` wrote {outDir}");
        Assert.Equal(fileBefore, File.ReadAllText(_f.AFile));
        Assert.Equal(adapterBefore, Directory.GetFileSystemEntries(_f.Adapter).Length);
        Assert.True(Directory.Exists(Path.Combine(_f.Model)) && File.Exists(Path.Combine(_f.Model, "config.json")));
    }
}
