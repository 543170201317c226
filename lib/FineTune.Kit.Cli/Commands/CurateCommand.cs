using System.CommandLine;
using System.Globalization;
using FineTune.Kit.Data;
using FineTune.Kit.Data.Curation;
using Spectre.Console;

namespace FineTune.Kit.Cli.Commands;

/// <summary>
/// `ftk curate`: load a JSONL/CSV file, run the curation pipeline (default or curation.json), split it and write
/// train/validation/test JSONL plus report.json and report.html.
/// </summary>
internal static class CurateCommand
{
    public static Command Create()
    {
        var input = Cli.Required<string>("--data", "Input: .jsonl (default), .csv/.tsv with a header row, .parquet, or a Hugging Face dataset folder (its train split)", "--input").ExistingFileOrFolder();
        var output = Cli.Required<string>("--out", "Output folder for train/validation/test.jsonl and report.json/html").FolderToWrite();
        var config = Cli.Optional<string?>("--config", "curation.json: rules and their parameters (default pipeline without it)", null);
        var onError = Cli.Optional("--on-error", "Malformed rows: 'fail' stops naming the line, 'skip' lists them in the report", "fail");
        onError.OneOf("fail", "skip");
        var seed = Cli.Optional("--seed", "Seed of the split (rules that sample take their own seed in curation.json)", Seeds.Default).AtLeast(0);
        var split = Cli.Optional("--split", "Train,validation,test fractions", "0.8,0.1,0.1");
        var stratify = Cli.Optional<string?>("--stratify", "Column whose value shares every split keeps (e.g. label)", null);
        var group = Cli.Optional<string?>("--group", "Column whose rows must stay in one split (e.g. customer_id)", null);

        var command = new Command("curate", "Clean, deduplicate, redact and split a dataset, with a report of every change");
        foreach (var o in new Option[] { input, output, config, onError, seed, split, stratify, group }) command.Options.Add(o);
        command.Handle(parse =>
        {
            var mode = parse.GetValue(onError) switch
            {
                "fail" => OnError.Fail,
                "skip" => OnError.Skip,
                var v => throw new ArgumentException($"--on-error must be 'fail' or 'skip', got '{v}'"),
            };
            var fractions = ParseSplit(parse.GetValue(split)!);
            var configPath = parse.GetValue(config);
            var outDir = parse.GetValue(output)!;
            int seedValue = parse.GetValue(seed);

            var inputPath = parse.GetValue(input)!;
            if (Directory.Exists(inputPath) && DatasetDict.FromFolder(inputPath, null, mode) is { Splits.Count: > 1 } hub)
                Console.WriteLine($"{inputPath}: curating split 'train'; the folder's other splits ({string.Join(", ", hub.Splits.Where(x => x != "train"))}) are not read");
            var data = RequireTextValues(Dataset.Load(inputPath, mode), mode);
            var settings = configPath is null ? CurationConfig.Default(data.Shape) : CurationConfig.Load(configPath);
            if (configPath is null && data.Count > 0 && data.Rows.All(r => Dataset.ShapeOf(r) == DatasetShape.Unknown))
                throw new DataFormatException($"{data.Source}: no text column found ({string.Join(", ", Example.DefaultTextColumns)}); " +
                                              "name the text columns with \"text_columns\" in a --config file");
            var result = settings.Pipeline.Run(data);
            var splits = result.Data.Split(fractions[0], fractions[1], fractions[2], parse.GetValue(stratify), parse.GetValue(group), seedValue);
            var leaks = LeakageCheck.Find(splits);
            result.Report.RecordSplits(splits, leaks);
            var train = settings.Augment?.Augment(splits.Train) ?? splits.Train;

            train.ToJsonl(Path.Combine(outDir, "train.jsonl"));
            splits.Validation.ToJsonl(Path.Combine(outDir, "validation.jsonl"));
            splits.Test.ToJsonl(Path.Combine(outDir, "test.jsonl"));
            if (settings.Augment is not null) result.Report.RecordAugmentation(train.Count - splits.Train.Count);
            result.Report.Save(outDir);

            Print(result.Report, splits, leaks.Count, outDir);
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Rows whose text or label is a number or true/false: an error naming the line (or, with --on-error skip, listed
    /// in the report with the malformed rows). The pipeline would drop a number text as empty, and keep a number
    /// label as a class of its own.
    /// </summary>
    private static Dataset RequireTextValues(Dataset data, OnError mode)
    {
        string[] columns = [.. Example.DefaultTextColumns, "label"];
        var bad = data.Rows.Select(r => (Row: r, Problem: Dataset.NonTextValue(r, columns))).Where(x => x.Problem is not null).ToList();
        if (bad.Count == 0) return data;
        if (mode == OnError.Fail) throw new DataFormatException($"{data.Source}:{bad[0].Row.Line}: {bad[0].Problem} (or pass --on-error skip to list such rows in the report)");
        var skipped = bad.Select(x => x.Row).ToHashSet();
        return new Dataset(data.Rows.Where(r => !skipped.Contains(r)),
            data.InvalidRows.Concat(bad.Select(x => new InvalidRow(x.Row.Line, x.Problem!, data.Source))).OrderBy(i => i.Line), data.Source);
    }

    private static double[] ParseSplit(string text)
    {
        var parts = text.Split(',');
        if (parts.Length != 3 || !parts.All(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
            throw new ArgumentException($"--split needs three comma-separated fractions like 0.8,0.1,0.1, got '{text}'");
        var fractions = parts.Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        if (fractions.Any(f => !(f >= 0 && f <= 1)) || Math.Abs(fractions.Sum() - 1) > 1e-6)
            throw new ArgumentException($"--split needs three fractions in [0, 1] that add up to 1, like 0.8,0.1,0.1, got '{text}'");
        return fractions;
    }

    private static void Print(CurationReport report, DatasetSplits splits, int leaks, string outDir)
    {
        var table = new Table().AddColumns("rule", "removed", "modified");
        foreach (var r in report.Rules) table.AddRow(Markup.Escape(r.Name), r.Removed.ToString(), r.Modified.ToString());
        Cli.Out.Write(table);
        Console.WriteLine($"{report.InputRows} rows in, {report.OutputRows} out ({report.Removed} removed by rules" +
                          $"{(report.InvalidRows.Count > 0 ? $"; {report.InvalidRows.Count} malformed rows skipped, not counted" : "")}).");
        Console.WriteLine($"train {splits.Train.Count}, validation {splits.Validation.Count}, test {splits.Test.Count}" +
                          $"{(leaks > 0 ? $"; {leaks} rows shared between splits (see report)" : "")}.");
        Console.WriteLine($"wrote {outDir}/{{train,validation,test}}.jsonl, report.json, report.html");
    }
}
