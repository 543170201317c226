using System.CommandLine;

namespace FineTune.Kit.Cli.Commands;

/// <summary>Shared plumbing of the commands: their actions, the console, and option construction.</summary>
internal static class Cli
{
    /// <summary>
    /// Sets a command's body. Exceptions are left to <see cref="Program.Run"/>, which turns every one of them into one
    /// line on stderr and a non-zero exit, whatever command raised it.
    /// </summary>
    public static void Handle(this Command command, Func<ParseResult, int> body) => command.SetAction(body);

    /// <summary>
    /// A Spectre console over the current <see cref="Console.Out"/>. AnsiConsole.Console binds to the writer of its
    /// first use; creating one per call keeps output where Console.Out points now (redirections, in-process tests).
    /// </summary>
    public static Spectre.Console.IAnsiConsole Out => Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
    {
        Out = new Spectre.Console.AnsiConsoleOutput(Console.Out),
    });

    /// <summary>A required option; <paramref name="oldNames"/> are earlier names still accepted but not shown in the help.</summary>
    public static Option<T> Required<T>(string name, string description, params string[] oldNames) =>
        WithOldNames(new Option<T>(name) { Description = description, Required = true }, oldNames);

    /// <summary>An optional option with a default value; <paramref name="oldNames"/> as for <see cref="Required{T}"/>.</summary>
    public static Option<T> Optional<T>(string name, string description, T defaultValue, params string[] oldNames) =>
        WithOldNames(new Option<T>(name) { Description = description, DefaultValueFactory = _ => defaultValue }, oldNames);

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Option, List<Option>> OldNames = new();

    /// <summary>
    /// Keeps names an option had before it was given its one name: each is a hidden option (not in the help) whose
    /// value, when given, becomes this option's value, checked by this option's checks. Scripts written against the
    /// old names keep working for a release. <see cref="Program.HideOldNames"/> adds them to the commands.
    /// </summary>
    public static Option<T> WithOldNames<T>(this Option<T> option, params string[] oldNames)
    {
        if (oldNames.Length == 0) return option;
        var hidden = oldNames.Select(name =>
        {
            var old = new Option<T>(name) { Hidden = true, Description = $"Old name of {option.Name}" };
            old.Validators.Add(r => { foreach (var check in option.Validators) check(r); });
            return old;
        }).ToList();
        var fallback = option.DefaultValueFactory;
        option.DefaultValueFactory = r =>
        {
            foreach (var old in hidden)
                if (r.GetResult(old) is { Implicit: false } given) return given.GetValueOrDefault<T>();
            return fallback is null ? default! : fallback(r);
        };
        OldNames.Add(option, [.. hidden]);
        return option;
    }

    /// <summary>The hidden options that carry the older names of <paramref name="option"/> (none for most).</summary>
    public static IReadOnlyList<Option> OldNamesOf(Option option) => OldNames.TryGetValue(option, out var old) ? old : [];

    /// <summary>Prints a note for the user on stderr, prefixed like the errors (`ftk train: note: ...`).</summary>
    public static void Note(ParseResult parse, string message) =>
        Console.Error.WriteLine($"{Program.CommandPath(parse)}: note: {message}");
}
