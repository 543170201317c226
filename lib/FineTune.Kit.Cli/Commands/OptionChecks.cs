using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace FineTune.Kit.Cli.Commands;

/// <summary>
/// Range and path checks attached to the options themselves, so that every command refuses a bad value the same way:
/// during parsing, before anything is loaded or written, as one line naming the option and what it expects
/// (`--lr must be a number > 0, got -1`). The checks return the option, to be chained where it is declared.
/// </summary>
internal static class OptionChecks
{
    /// <summary>A whole number of at least <paramref name="min"/>.</summary>
    public static Option<T> AtLeast<T>(this Option<T> option, T min) where T : struct, INumber<T> =>
        option.Check(v => v >= min, $"a whole number >= {min}");

    /// <summary>A whole number of at least <paramref name="min"/>, when given.</summary>
    public static Option<T?> AtLeast<T>(this Option<T?> option, T min) where T : struct, INumber<T> =>
        option.Check(v => v is null || v >= min, $"a whole number >= {min}");

    /// <summary>One of the given words.</summary>
    public static Option<string> OneOf(this Option<string> option, params string[] allowed) =>
        option.Check(v => allowed.Contains(v), $"one of {string.Join(", ", allowed)}");

    /// <summary>A finite number greater than zero.</summary>
    public static Option<double> Positive(this Option<double> option) =>
        option.Check(v => double.IsFinite(v) && v > 0, "a number > 0");

    /// <summary>A finite number of at least zero.</summary>
    public static Option<double> NonNegative(this Option<double> option) =>
        option.Check(v => double.IsFinite(v) && v >= 0, "a number >= 0");

    /// <summary>A number in [<paramref name="min"/>, <paramref name="max"/>] or, when an end is open, excluding it.</summary>
    public static Option<double> Between(this Option<double> option, double min, double max, bool minOpen = false, bool maxOpen = false) =>
        option.Check(v => double.IsFinite(v) && (minOpen ? v > min : v >= min) && (maxOpen ? v < max : v <= max),
            $"a number in {(minOpen ? "(" : "[")}{F(min)}, {F(max)}{(maxOpen ? ")" : "]")}");

    /// <summary>
    /// A folder to write into: it may exist (as a folder) or not yet, but it must not be a file, and every existing
    /// parent must be a folder (`--out results.txt/run` would otherwise fail half-way with "could not find a part of the path").
    /// </summary>
    public static Option<T> FolderToWrite<T>(this Option<T> option) where T : class?
    {
        option.Validators.Add(result =>
        {
            if (!TryValue<T>(result, out var value) || value is not string path || path.Length == 0) return;
            if (FolderProblem(path) is { } problem) result.AddError($"{result.IdentifierToken?.Value ?? option.Name} {path}: {problem}");
        });
        return option;
    }

    /// <summary>A folder that exists (a model, an adapter): a missing one is named before anything is loaded.</summary>
    public static Option<string> ExistingFolder(this Option<string> option) =>
        option.CheckPath(path => Directory.Exists(path) ? null
            : File.Exists(path) ? "is a file; expected a folder" : "no such folder");

    /// <summary>Folders that all exist.</summary>
    public static Option<string[]> ExistingFolders(this Option<string[]> option)
    {
        option.Validators.Add(result =>
        {
            if (!TryValue<string[]>(result, out var paths)) return;
            foreach (var path in paths ?? [])
                if (!Directory.Exists(path))
                {
                    result.AddError($"{Name(result, option)} {path}: {(File.Exists(path) ? "is a file; expected a folder" : "no such folder")}");
                    return;
                }
        });
        return option;
    }

    /// <summary>A file that exists.</summary>
    public static Option<string> ExistingFile(this Option<string> option) =>
        option.CheckPath(path => File.Exists(path) ? null
            : Directory.Exists(path) ? "is a folder; expected a file" : "no such file");

    /// <summary>A path that names an existing file or folder.</summary>
    public static Option<string> ExistingFileOrFolder(this Option<string> option) =>
        option.CheckPath(path => File.Exists(path) || Directory.Exists(path) ? null : "no such file or folder");

    /// <summary>A path option checked by <paramref name="problem"/> (null: fine), reported as "OPTION PATH: problem".</summary>
    private static Option<string> CheckPath(this Option<string> option, Func<string, string?> problem)
    {
        option.Validators.Add(result =>
        {
            if (!TryValue<string>(result, out var path) || string.IsNullOrEmpty(path)) return;
            if (problem(path) is { } p) result.AddError($"{Name(result, option)} {path}: {p}");
        });
        return option;
    }

    private static string Name(OptionResult result, Option option) => result.IdentifierToken?.Value ?? option.Name;

    /// <summary>Why a path cannot be a folder to write into, or null when it can.</summary>
    public static string? FolderProblem(string path)
    {
        if (File.Exists(path)) return "is a file; expected a folder (it is created if missing)";
        for (var parent = Path.GetDirectoryName(Path.GetFullPath(path)); !string.IsNullOrEmpty(parent); parent = Path.GetDirectoryName(parent))
        {
            if (Directory.Exists(parent)) break;
            if (File.Exists(parent)) return $"{parent} is a file, so no folder can be made inside it";
        }
        return null;
    }

    /// <summary>A value that satisfies <paramref name="ok"/>; otherwise "OPTION must be EXPECTED, got VALUE".</summary>
    public static Option<T> Check<T>(this Option<T> option, Func<T, bool> ok, string expected)
    {
        option.Validators.Add(result =>
        {
            if (!TryValue<T>(result, out var value)) return;
            if (!ok(value!)) result.AddError($"{result.IdentifierToken?.Value ?? option.Name} must be {expected}, got {Show(value)}");
        });
        return option;
    }

    /// <summary>The option's value; false when it did not parse (that has its own error already).</summary>
    private static bool TryValue<T>(OptionResult result, out T? value)
    {
        value = default;
        // a default is not checked (it is the command's own), and a value given under an old name is checked there
        if (result.Implicit || result.Errors.Any()) return false;
        try
        {
            value = result.GetValueOrDefault<T>();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static string Show<T>(T value) => value switch
    {
        null => "nothing",
        double d => F(d),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
