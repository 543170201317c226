namespace FineTune.Kit.Notebooks.Model;

/// <summary>
/// Names of Polyglot Notebooks kernels. A cell's kernel comes from its metadata or from a `#!name` line; the runner
/// executes only C# and skips the rest.
/// </summary>
public static class Kernels
{
    /// <summary>The canonical name of the C# kernel.</summary>
    public const string CSharp = "csharp";

    // alias -> canonical name; also every name a `#!name` line may switch to
    private static readonly Dictionary<string, string> Canonical = new(StringComparer.OrdinalIgnoreCase)
    {
        ["csharp"] = CSharp, ["c#"] = CSharp, ["cs"] = CSharp, [".net-csharp"] = CSharp,
        ["fsharp"] = "fsharp", ["f#"] = "fsharp", ["fs"] = "fsharp", [".net-fsharp"] = "fsharp",
        ["pwsh"] = "pwsh", ["powershell"] = "pwsh", [".net-pwsh"] = "pwsh", [".net-powershell"] = "pwsh",
        ["javascript"] = "javascript", ["js"] = "javascript",
        ["html"] = "html", ["markdown"] = "markdown", ["md"] = "markdown", ["mermaid"] = "mermaid",
        ["sql"] = "sql", ["kql"] = "kql", ["http"] = "http", ["value"] = "value",
        ["python"] = "python", ["r"] = "r",
    };

    /// <summary>The canonical kernel name for a name or alias (`c#` → `csharp`); unknown names come back lower-cased.</summary>
    public static string Normalize(string name)
    {
        var trimmed = name.Trim();
        return Canonical.TryGetValue(trimmed, out var canonical) ? canonical : trimmed.ToLowerInvariant();
    }

    /// <summary>True when a `#!name` line switches the kernel (as opposed to a magic command such as `#!time`).</summary>
    public static bool IsKernelName(string name) => Canonical.ContainsKey(name.Trim());

    /// <summary>True for the C# kernel under any of its names.</summary>
    public static bool IsCSharp(string name) => Normalize(name) == CSharp;
}
