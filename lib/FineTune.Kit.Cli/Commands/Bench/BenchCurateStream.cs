using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Text;
using System.Text.Json.Nodes;
using FineTune.Kit.Data;
using FineTune.Kit.Data.Curation;
using Spectre.Console;

namespace FineTune.Kit.Cli.Commands.Bench;

/// <summary>
/// `ftk bench curate-stream`: curation of a generated file of many rows (JSONL or Parquet) streamed row by row from
/// disk to disk: time and peak resident memory of the whole pipeline and of the near-duplicate stage alone, and, at a
/// smaller size, the same pipeline run in memory (<see cref="CurationPipeline.Run"/>) next to the streamed one.
/// </summary>
internal static class BenchCurateStream
{
    public static Command Create()
    {
        var rows = Cli.Optional("--rows", "Rows of the generated file to curate by streaming", 1_000_000);
        var compareRows = Cli.Optional("--compare-rows", "Rows for the in-memory versus streamed comparison (0 skips it)", 100_000);
        var format = Cli.Optional("--format", "Format of the generated input: jsonl or parquet", "jsonl").OneOf("jsonl", "parquet");
        var threshold = Cli.Optional("--threshold", "Near-duplicate Jaccard threshold", 0.8).Between(0, 1, minOpen: true);
        var seed = Cli.Optional("--seed", "Seed of the generated data", Seeds.Default).AtLeast(0);
        var command = new Command("curate-stream", "Streamed curation of a large generated file: time and peak memory, near-duplicate stage alone, in-memory side by side");
        foreach (var o in new Option[] { rows, compareRows, format, threshold, seed }) command.Options.Add(o);
        command.Handle(parse =>
        {
            int n = parse.GetValue(rows), compare = parse.GetValue(compareRows), s = parse.GetValue(seed);
            if (n < 1000) throw new ArgumentException($"--rows must be at least 1000, got {n}");
            if (compare is < 0 or (> 0 and < 1000)) throw new ArgumentException($"--compare-rows must be 0 or at least 1000, got {compare}");
            double t = parse.GetValue(threshold);
            var ext = parse.GetValue(format)!;
            var folder = Directory.CreateTempSubdirectory("ftk-bench-curate-").FullName;
            try
            {
                bool peakResets = ResetPeak();
                Console.WriteLine($"{Environment.ProcessorCount} cores; peak RSS {(peakResets ? "reset before each run (/proc/self/clear_refs)" : "is the process-wide high-water mark (cannot reset here)")}");
                var input = Path.Combine(folder, $"rows.{ext}");
                var (_, genSecs, _, _, _) = Measure(() => Generate(input, n, s));
                Console.WriteLine($"generated {n:N0} rows in {genSecs:F1} s: {input} ({new FileInfo(input).Length / 1e6:F0} MB)");

                var table = new Table().AddColumns("run", "rows in", "rows out", "wall s", "CPU s", "rows/s", "peak RSS MiB", "RSS at start MiB", "notes");
                // each row is also printed as soon as it is measured, so a long run that is stopped leaves its figures
                void Row(params string[] cells)
                {
                    table.AddRow(cells);
                    Console.WriteLine(string.Join(" | ", cells));
                }
                var output = Path.Combine(folder, "curated.jsonl");
                if (compare > 0)
                {
                    var small = Path.Combine(folder, $"small.{ext}");
                    Generate(small, compare, s);
                    var (streamed, swall, scpu, speak, sstart) = Measure(() => StreamTo(Pipeline(t), small, output));
                    Row($"stream, all rules, {N(compare)} rows", N(streamed.InputRows), N(streamed.OutputRows), F(swall, 1), F(scpu, 1), F(compare / swall, 0), Mib(speak), Mib(sstart), "");
                    var (batch, bwall, bcpu, bpeak, bstart) = Measure(() =>
                    {
                        var result = Pipeline(t).Run(Dataset.Load(small));
                        result.Data.ToJsonl(output);
                        return result.Report;
                    });
                    Row($"in memory (Dataset + Run), {N(compare)} rows", N(batch.InputRows), N(batch.OutputRows), F(bwall, 1), F(bcpu, 1), F(compare / bwall, 0), Mib(bpeak), Mib(bstart),
                        $"memory ratio in memory / stream {(double)(bpeak - bstart) / Math.Max(1, speak - sstart):F1}x (above start); exact Jaccard verification");
                }
                var (full, wall, cpu, peak, start) = Measure(() => StreamTo(Pipeline(t), input, output));
                Row($"stream, all rules ({ext})", N(full.InputRows), N(full.OutputRows), F(wall, 1), F(cpu, 1), F(full.InputRows / wall, 0), Mib(peak), Mib(start),
                    string.Join("; ", full.Rules.Select(r => $"{r.Name} -{r.Removed}{(r.Modified > 0 ? $" ~{r.Modified}" : "")}")));
                var (near, nwall, ncpu, npeak, nstart) = Measure(() => StreamTo(new CurationPipeline().DropNearDuplicates(new NearDuplicateOptions(t)), input, output));
                Row($"stream, near duplicates only ({ext})", N(near.InputRows), N(near.OutputRows), F(nwall, 1), F(ncpu, 1), F(near.InputRows / nwall, 0), Mib(npeak), Mib(nstart),
                    string.Join("; ", near.Rules[0].Notes.Skip(1)));

                Cli.Out.Write(table);
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
            return 0;
        });
        return command;
    }

    /// <summary>Every rule that can stream, as a curation of scraped text would chain them.</summary>
    private static CurationPipeline Pipeline(double threshold) => new CurationPipeline()
        .NormalizeUnicode().StripHtml().CollapseWhitespace().RedactPii().DropEmpty("text").FilterLength(minChars: 10)
        .DropDuplicates(nearThreshold: threshold);

    private static StreamingCurationSummary StreamTo(CurationPipeline pipeline, string input, string output)
    {
        using var writer = new StreamWriter(output, false, new UTF8Encoding(false), 1 << 16) { NewLine = "\n" };
        return pipeline.RunStreaming(Dataset.Stream(input), row => writer.WriteLine(row.ToJson()));
    }

    /// <summary>
    /// Writes <paramref name="count"/> generated rows ({text, label}) without holding them: ticket-like texts from a
    /// made-up vocabulary with, per row, about 5% exact copies of a recent row in other case and punctuation, 8% near
    /// copies (one word replaced), 3% wrapped in HTML, 2% carrying an e-mail address and 1% empty.
    /// </summary>
    private static string Generate(string path, int count, int seed)
    {
        var random = new Random(seed);
        string[] syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "shi", "po", "ve", "da", "gor", "lin", "mar", "tes", "qua", "bri"];
        var vocab = Enumerable.Range(0, 20_000).Select(_ =>
            string.Concat(Enumerable.Range(0, random.Next(2, 5)).Select(_ => syllables[random.Next(syllables.Length)]))).ToArray();
        string[] labels = ["billing", "shipping", "account", "other"];
        var recent = new string[50_000];   // earlier texts duplicates are copied from
        IEnumerable<Example> Rows()
        {
            for (int i = 0; i < count; i++)
            {
                double roll = random.NextDouble();
                string text;
                if (i > 100 && roll < 0.05) text = recent[random.Next(Math.Min(i, recent.Length))].ToUpperInvariant() + "!";
                else if (i > 100 && roll < 0.13)
                {
                    var words = recent[random.Next(Math.Min(i, recent.Length))].Split(' ');
                    words[random.Next(words.Length)] = vocab[random.Next(vocab.Length)];
                    text = string.Join(' ', words);
                }
                else if (roll < 0.14) text = "";
                else text = string.Join(' ', Enumerable.Range(0, random.Next(10, 30)).Select(_ => vocab[random.Next(vocab.Length)]));
                recent[i % recent.Length] = text;
                double extra = random.NextDouble();
                if (extra < 0.03) text = $"<p>{text} <b>{vocab[random.Next(vocab.Length)]}</b></p>";
                else if (extra < 0.05) text += $" write to {vocab[random.Next(vocab.Length)]}@example.com";
                yield return new Example(new JsonObject { ["text"] = text, ["label"] = labels[random.Next(labels.Length)] }, i + 1);
            }
        }
        if (path.EndsWith(".parquet", StringComparison.Ordinal)) ParquetRowWriter.WriteStream(path, Rows(), rowGroupSize: 50_000);
        else JsonlWriter.Write(path, Rows());
        return path;
    }

    // time, CPU and peak resident memory of one run, after a full collection that returns freed memory to the system
    private static (T Result, double Wall, double Cpu, long PeakRss, long StartRss) Measure<T>(Func<T> work)
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        ResetPeak();
        long start = Status("VmRSS");
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var result = work();
        double wall = clock.Elapsed.TotalSeconds;
        process.Refresh();
        return (result, wall, (process.TotalProcessorTime - cpu).TotalSeconds, Status("VmHWM"), start);
    }

    // Linux: writing 5 to clear_refs resets the peak resident set size (VmHWM) of this process
    private static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long Status(string key)
    {
        if (!File.Exists("/proc/self/status")) return Environment.WorkingSet;
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
                return long.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        return Environment.WorkingSet;
    }

    private static string Mib(long bytes) => (bytes / (1024.0 * 1024)).ToString("F0", CultureInfo.InvariantCulture);
    private static string F(double v, int digits) => v.ToString("F" + digits, CultureInfo.InvariantCulture);
    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
}
