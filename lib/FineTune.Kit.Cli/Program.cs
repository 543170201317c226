using System.CommandLine;
using FineTune.Kit.Cli.Commands;

namespace FineTune.Kit.Cli;

/// <summary>`ftk`: one command per stage of the fine-tuning life cycle.</summary>
public static class Program
{
    public static int Main(string[] args) => Run(args);

    /// <summary>Parses and runs a command line; used by Main and by in-process tests.</summary>
    public static int Run(string[] args)
    {
        var root = new RootCommand("FineTune.Kit: curate, prompt, fine-tune, evaluate, explain and ship language models.");
        foreach (var command in CommandList.All()) root.Subcommands.Add(command);
        return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }
}
