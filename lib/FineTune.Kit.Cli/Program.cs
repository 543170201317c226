using System.CommandLine;
using System.CommandLine.Help;
using FineTune.Kit.Cli.Commands;

namespace FineTune.Kit.Cli;

/// <summary>`ftk`: one command per stage of the fine-tuning life cycle.</summary>
public static class Program
{
    public static int Main(string[] args) => Run(args);

    /// <summary>Exit code of a command line that does not parse or has an option value out of range.</summary>
    public const int UsageError = 2;

    /// <summary>Exit code of a command that failed while running (bad file, bad data, a failed step).</summary>
    public const int Failure = 1;

    /// <summary>
    /// Parses and runs a command line; used by Main and by in-process tests. A usage error (unknown option, a value out
    /// of range, see Commands/OptionChecks.cs) and any exception a command raises both end as exactly one line on
    /// stderr, `ftk COMMAND: message`, and a non-zero exit code; never a stack trace.
    /// </summary>
    public static int Run(string[] args)
    {
        var parse = Parse(args);
        var root = parse.RootCommandResult.Command;
        if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
        {
            // "Unrecognized command or argument 'trian'" says more than the "Required command was not provided" it causes
            var first = parse.Errors.Select(e => e.Message).OrderBy(m => m.StartsWith("Required command", StringComparison.Ordinal)).First();
            var more = parse.Errors.Count > 1 ? $" (and {parse.Errors.Count - 1} more problem{(parse.Errors.Count > 2 ? "s" : "")})" : "";
            var hint = parse.CommandResult.Command == root ? "; `ftk --help` lists the commands" : "";
            Console.Error.WriteLine($"{CommandPath(parse)}: {OneLine(first).TrimEnd('.')}{more}{hint}");
            return UsageError;
        }
        var droppedBefore = Text.UnencodableCharacters.Count;
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"{CommandPath(parse)}: {Describe(e)}");
            return Failure;
        }
        finally
        {
            // text the tokenizer could not encode is dropped as the reference tokenizers drop it, but never silently
            if (Text.UnencodableCharacters.Describe(droppedBefore) is { } warning) Console.Error.WriteLine($"{CommandPath(parse)}: warning: {warning}");
        }
    }

    /// <summary>Parses a command line against every command, without running it.</summary>
    internal static ParseResult Parse(string[] args)
    {
        var root = new RootCommand("FineTune.Kit: curate, prompt, fine-tune, evaluate, explain and ship language models.");
        foreach (var command in CommandList.All()) root.Subcommands.Add(command);
        HideOldNames(root);
        return root.Parse(args);
    }

    /// <summary>`ftk` followed by the names of the (sub)command being run: `ftk notebook run`.</summary>
    internal static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var c = parse.CommandResult; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult)
            if (c.Command is not RootCommand) names.Insert(0, c.Command.Name);
        return string.Join(' ', ["ftk", .. names]);
    }

    /// <summary>
    /// An exception as one line: the kit's own errors, missing files and argument errors by their message; anything
    /// else (a native tensor error, a bug) also names its type, so that it can be reported. Native messages carry
    /// a C++ stack trace after their first line, which is dropped.
    /// </summary>
    internal static string Describe(Exception e)
    {
        if (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerExceptions[0];
        if (e is System.Reflection.TargetInvocationException { InnerException: { } inner }) e = inner;
        var message = OneLine(e.Message);
        return e switch
        {
            KitException or FileNotFoundException or DirectoryNotFoundException or ArgumentException or InvalidDataException
                or FormatException or IOException or UnauthorizedAccessException => message,
            _ => $"{message} ({e.GetType().Name})",
        };
    }

    /// <summary>The first line of a message, trimmed (multi-line messages would break the one-line promise).</summary>
    internal static string OneLine(string message)
    {
        var line = message.Trim();
        var cut = line.IndexOfAny(['\r', '\n']);
        return cut < 0 ? line : line[..cut].TrimEnd();
    }

    /// <summary>
    /// Puts the hidden options that carry older option names (<see cref="Commands.Cli.WithOldNames{T}"/>) beside their
    /// options in every command, so that they parse but the help lists each option under its one name.
    /// </summary>
    internal static void HideOldNames(Command command)
    {
        foreach (var option in command.Options.ToList())
        {
            var old = Commands.Cli.OldNamesOf(option);
            if (old.Count == 0) continue;
            foreach (var o in old) command.Options.Add(o);
            if (option.Required)
            {
                // required under any of its names: the check moves from the option to the command
                option.Required = false;
                command.Validators.Add(r =>
                {
                    if (r.GetResult(option) is not { Implicit: false } && old.All(o => r.GetResult(o) is null))
                        r.AddError($"Option '{option.Name}' is required.");
                });
            }
            command.Validators.Add(r =>
            {
                if (old.FirstOrDefault(o => r.GetResult(o) is not null) is { } given && (r.GetResult(option) is { Implicit: false } || old.Count(o => r.GetResult(o) is not null) > 1))
                    r.AddError($"{option.Name} is given twice ({given.Name} is its old name); give it once");
            });
        }
        foreach (var sub in command.Subcommands) HideOldNames(sub);
    }
}
