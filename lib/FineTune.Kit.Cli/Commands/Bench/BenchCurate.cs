using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using FineTune.Kit.Data.Curation;
using Spectre.Console;

namespace FineTune.Kit.Cli.Commands.Bench;

/// <summary>
/// `ftk bench curate`: near-duplicate detection (MinHash + LSH) on generated short texts with planted near
/// duplicates: rows per second at growing sizes (the time should grow about linearly), and recall and speed-up
/// against exact all-pairs Jaccard on a smaller sample.
/// </summary>
internal static class BenchCurate
{
    public static Command Create()
    {
        var rows = Cli.Optional("--rows", "Largest number of rows to time", 100_000);
        var exactRows = Cli.Optional("--exact-rows", "Rows for the exact all-pairs comparison", 5_000);
        var threshold = Cli.Optional("--threshold", "Jaccard threshold", 0.8).Between(0, 1, minOpen: true);
        var seed = Cli.Optional("--seed", "Seed of the generated data", Seeds.Default).AtLeast(0);
        var command = new Command("curate", "Near-duplicate detection: throughput, scaling, recall vs exact Jaccard");
        foreach (var o in new Option[] { rows, exactRows, threshold, seed }) command.Options.Add(o);
        command.Handle(parse =>
        {
            int max = parse.GetValue(rows), exact = parse.GetValue(exactRows), s = parse.GetValue(seed);
            if (max < 1000 || exact < 100) throw new ArgumentException("--rows must be >= 1000 and --exact-rows >= 100");
            var options = new NearDuplicateOptions(Threshold: parse.GetValue(threshold));
            var detector = new NearDuplicateDetector(options);
            Console.WriteLine($"MinHash {options.Permutations} permutations, {options.ShingleSize}-char shingles, LSH {options.Banding.Bands}x{options.Banding.Rows}, threshold {options.Threshold}");

            // CPU time next to wall time: on a shared machine the wall clock also measures the neighbours
            var scaling = new Table().AddColumns("rows", "wall s", "CPU s", "rows/s (wall)", "pairs found", "CPU time ratio", "rows ratio");
            // one untimed run at the smallest size, so tiered JIT and the thread pool are warm for every timed size
            detector.FindPairs(SyntheticTexts.Generate(max / 10, s + 2));
            double? firstTime = null;
            int firstRows = 0;
            foreach (var n in new[] { max / 10, max / 5, max / 2, max }.Distinct())
            {
                var texts = SyntheticTexts.Generate(n, s);
                var (pairs, secs, cpu) = Measure(() => detector.FindPairs(texts));
                firstTime ??= cpu;
                if (firstRows == 0) firstRows = n;
                scaling.AddRow(n.ToString(), F(secs, 2), F(cpu, 2), F(n / secs, 0), pairs.Count.ToString(), F(cpu / firstTime.Value, 2), F((double)n / firstRows, 1));
            }
            Cli.Out.Write(scaling);

            var sample = SyntheticTexts.Generate(exact, s + 1);
            var shingler = new Shingler(options.ShingleSize, options.Unit);
            var (truth, _, exactSecs) = Measure(() =>
            {
                var sets = sample.Select(shingler.Shingles).ToArray();
                var pairs = new HashSet<(int, int)>();
                for (int i = 0; i < sets.Length; i++)
                    for (int j = i + 1; j < sets.Length; j++)
                        if (Shingler.Jaccard(sets[i], sets[j]) >= options.Threshold) pairs.Add((i, j));
                return pairs;
            });
            var (found, _, lshSecs) = Measure(() => detector.FindPairs(sample).Select(p => (p.First, p.Second)).ToHashSet());
            int hits = found.Count(truth.Contains);
            var quality = new Table().AddColumns("rows", "exact pairs >= t", "LSH pairs", "recall", "precision", "exact CPU s", "LSH CPU s", "speed-up");
            quality.AddRow(exact.ToString(), truth.Count.ToString(), found.Count.ToString(),
                F(truth.Count == 0 ? 1 : (double)hits / truth.Count, 3), F(found.Count == 0 ? 1 : (double)hits / found.Count, 3),
                F(exactSecs, 2), F(lshSecs, 3), F(exactSecs / lshSecs, 0) + "x");
            Cli.Out.Write(quality);
            return 0;
        });
        return command;
    }

    private static (T Result, double WallSeconds, double CpuSeconds) Measure<T>(Func<T> work)
    {
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        var result = work();
        double wall = sw.Elapsed.TotalSeconds;
        process.Refresh();
        return (result, wall, (process.TotalProcessorTime - cpu).TotalSeconds);
    }

    private static string F(double v, int digits) => v.ToString("F" + digits, CultureInfo.InvariantCulture);
}
