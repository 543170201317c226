using System.CommandLine;

namespace FineTune.Kit.Cli.Commands;

/// <summary>`ftk bench`: speed and quality measurements, one sub-command per stage.</summary>
internal static class BenchCommand
{
    /// <summary>The bench sub-commands.</summary>
    public static IEnumerable<Command> SubCommands() =>
    [
        Bench.BenchCurate.Create(),
        Bench.BenchCurateStream.Create(),
        Bench.BenchModel.Forward(),
        Bench.BenchModel.Train(),
        Bench.BenchGenerate.Create(),
        Bench.BenchExplain.Create(),
        Bench.BenchServe.Create(),
        Bench.BenchExport.Create(),
        Bench.BenchPreferences.Dpo(),
        Bench.BenchPreferences.Grpo(),
    ];

    public static Command Create()
    {
        var command = new Command("bench", "Measure speed and quality of the kit's stages on generated data");
        foreach (var sub in SubCommands()) command.Subcommands.Add(sub);
        return command;
    }
}
