using System.CommandLine;

namespace FineTune.Kit.Cli.Commands;

/// <summary>Every `ftk` sub-command, in the order the help lists them (one file per command).</summary>
internal static class CommandList
{
    public static IEnumerable<Command> All() =>
    [
        DemoCommand.Create(),
        InfoCommand.Create(),
        GenerateCommand.Create(),
        ScoreCommand.Create(),
        SampleCommand.Create(),
        CurateCommand.Create(),
        TokenizerCommand.Create(),
        ChatTemplateCommand.Create(),
        PretrainCommand.Create(),
        TrainCommand.Create(),
        PreferencesCommand.Create(),
        MergeCommand.Create(),
        ExportCommand.Create(),
        CardCommand.Create(),
        ExplainCommand.Create(),
        BenchCommand.Create(),
        CompareCommand.Create(),
        ServeCommand.Create(),
        MonitorCommand.Create(),
        AuditCommand.Create(),
        NotebookCommand.Create(),
    ];
}
