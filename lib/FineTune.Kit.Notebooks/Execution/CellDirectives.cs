using System.Text.RegularExpressions;

namespace FineTune.Kit.Notebooks.Execution;

/// <summary>
/// Rewrites the Polyglot directives of a C# cell into plain C# script. Removed lines become blank lines so that
/// compiler messages keep the cell's line numbers.
/// </summary>
/// <remarks>
/// `#r "nuget: X"` of a package in the kit's own dependency set uses the loaded copy; any other package is collected for
/// <see cref="PackageRestore"/>, which fetches it as the Polyglot engine would; `#r "some.dll"` of an assembly the runner already
/// has (e.g. FineTune.Kit.dll built by a notebook's first cell for VS Code) maps to the loaded copy instead of loading
/// a second one; other `#r` paths are made absolute against the notebook folder; `#i` package sources and harmless
/// magics are dropped with a note; any other magic is an error, since silently skipping it would change the meaning.
/// </remarks>
public static partial class CellDirectives
{
    private static readonly HashSet<string> IgnoredMagics = new(StringComparer.OrdinalIgnoreCase)
    {
        "time", "who", "whos", "lsmagic", "about", "log",
    };

    [GeneratedRegex("""^\s*#r\s+"\s*nuget\s*:\s*(?<name>[^,"\s]+)\s*(,\s*(?<version>[^"]*?))?\s*"\s*$""", RegexOptions.IgnoreCase)]
    private static partial Regex NuGetReference();

    [GeneratedRegex("""^\s*#r\s+"(?<path>[^"]+)"\s*$""")]
    private static partial Regex PathReference();

    [GeneratedRegex("""^\s*#i\s+"[^"]*"\s*$""")]
    private static partial Regex PackageSource();

    [GeneratedRegex("""^\s*#!(?<name>\S+)""")]
    private static partial Regex Magic();

    /// <summary>
    /// Rewrites the directives of one cell. <paramref name="notes"/> receives what was done, for the console;
    /// <paramref name="packages"/> receives the packages the kit does not carry (without it they are an error); an
    /// unsupported magic or a missing file throws a <see cref="NotebookException"/> naming the cell and line.
    /// </summary>
    public static string Rewrite(string code, string notebookDirectory, string cellName, ICollection<string> notes,
                                 ICollection<PackageRequest>? packages = null)
    {
        var lines = code.Replace("\r\n", "\n").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var where = $"{cellName}, line {i + 1}";
            if (NuGetReference().Match(line) is { Success: true } nuget)
            {
                lines[i] = "";
                var name = nuget.Groups["name"].Value;
                var version = nuget.Groups["version"].Value.Trim();
                if (!KitPackages.Covers(name))
                {
                    if (packages is null)
                        throw new NotebookException(
                            $"{where}: package '{name}' is not part of the kit's dependency set. Available: {string.Join(", ", KitPackages.Names)}");
                    packages.Add(new PackageRequest(name, version, where));
                    continue;
                }
                var pinned = KitPackages.PinnedVersion(name);
                notes.Add(pinned is not null && version != "" && version != pinned && !version.Contains('*')
                    ? $"{where}: nuget {name} {version} requested; using the kit's {pinned}"
                    : $"{where}: nuget {name} provided by the kit");
            }
            else if (PathReference().Match(line) is { Success: true } reference && LooksLikeFile(reference.Groups["path"].Value))
            {
                var path = reference.Groups["path"].Value;
                var simpleName = Path.GetFileNameWithoutExtension(path);
                if (ScriptEnvironment.Shared.HasAssembly(simpleName))
                {
                    lines[i] = "";
                    notes.Add($"{where}: #r \"{path}\" uses the {simpleName} already loaded by the runner");
                    continue;
                }
                var full = Path.GetFullPath(Path.Combine(notebookDirectory, path));
                if (!File.Exists(full)) throw new NotebookException($"{where}: #r \"{path}\": file not found ({full})");
                lines[i] = $"#r \"{full}\"";
            }
            else if (PackageSource().IsMatch(line))
            {
                lines[i] = "";
                notes.Add($"{where}: package source ignored (packages come from the kit)");
            }
            else if (Magic().Match(line) is { Success: true } magic)
            {
                var name = magic.Groups["name"].Value;
                if (!IgnoredMagics.Contains(name))
                    throw new NotebookException($"{where}: magic command #!{name} is not supported by the headless runner");
                lines[i] = "";
                notes.Add($"{where}: magic #!{name} ignored");
            }
        }
        return string.Join('\n', lines);
    }

    // `#r "System.Net.Http"` names a framework assembly for Roslyn to resolve; a path or a .dll is a file
    private static bool LooksLikeFile(string path) =>
        path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".exe", StringComparison.OrdinalIgnoreCase)
        || path.Contains('/') || path.Contains('\\');
}
