using System.CommandLine;
using FineTune.Kit.Sample;
using Spectre.Console;

namespace FineTune.Kit.Cli.Commands;

/// <summary>`ftk sample`: generates the Lumen Home sample data set (byte-identical per seed).</summary>
internal static class SampleCommand
{
    public static Command Create()
    {
        var output = Cli.Optional("--out", "Folder to write the sample files into", "data/sample").FolderToWrite();
        var seed = Cli.Optional("--seed", "Random seed (the committed files use 7)", SampleData.DefaultSeed).AtLeast(0);
        var noCorpus = Cli.Optional("--no-corpus", "Skip the ~3 MB pre-training corpus", false);
        var command = new Command("sample", "Generate the sample customer-support data set (tickets, chat, preferences, held-out set, drift traffic, corpus)")
        {
            output, seed, noCorpus,
        };
        command.Handle(parse =>
        {
            var dir = parse.GetValue(output)!;
            var summary = SampleData.Generate(dir, parse.GetValue(seed), includeCorpus: !parse.GetValue(noCorpus));
            var table = new Table().AddColumn("file").AddColumn(new TableColumn("rows / size").RightAligned());
            table.AddRow(SampleData.RawTicketsFile, $"{summary.RawTickets:N0} (dirty)");
            table.AddRow(SampleData.ChatFile, $"{summary.ChatRows:N0}");
            table.AddRow(SampleData.PreferencesFile, $"{summary.PreferenceRows:N0}");
            table.AddRow(SampleData.HeldOutFile, $"{summary.HeldOutRows:N0}");
            foreach (var f in summary.Files.Where(f => f.Contains(".fairness.") || f.Contains(".planted_bias."))) table.AddRow(f, "names, regions");
            foreach (var traffic in new[] { DriftTraffic.InDistributionFile, DriftTraffic.DriftFile }) table.AddRow(traffic, $"{DriftTraffic.Requests:N0} requests");
            if (summary.CorpusBytes > 0) table.AddRow(SampleData.CorpusFile, $"{summary.CorpusBytes / 1e6:F1} MB");
            Cli.Out.Write(table);
            Console.WriteLine($"wrote {summary.Files.Count} files to {Path.GetFullPath(dir)}");
            return 0;
        });
        return command;
    }
}
