using System.CommandLine;

namespace FineTune.Kit.Cli.Commands;

/// <summary>Shared plumbing: every command reports a bad input as one line on stderr and a non-zero exit.</summary>
internal static class Cli
{
    /// <summary>Wraps a command body: kit errors and missing files become `ftk: message` with exit code 1.</summary>
    public static void Handle(this Command command, Func<ParseResult, int> body) =>
        command.SetAction(parse =>
        {
            try
            {
                return body(parse);
            }
            catch (Exception e) when (e is KitException or FileNotFoundException or DirectoryNotFoundException
                                          or ArgumentException or InvalidDataException or FormatException)
            {
                Console.Error.WriteLine($"ftk {command.Name}: {e.Message}");
                return 1;
            }
        });

    /// <summary>
    /// A Spectre console over the current <see cref="Console.Out"/>. AnsiConsole.Console binds to the writer of its
    /// first use; creating one per call keeps output where Console.Out points now (redirections, in-process tests).
    /// </summary>
    public static Spectre.Console.IAnsiConsole Out => Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
    {
        Out = new Spectre.Console.AnsiConsoleOutput(Console.Out),
    });

    /// <summary>A required option.</summary>
    public static Option<T> Required<T>(string name, string description) =>
        new(name) { Description = description, Required = true };

    /// <summary>An optional option with a default value.</summary>
    public static Option<T> Optional<T>(string name, string description, T defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };
}
