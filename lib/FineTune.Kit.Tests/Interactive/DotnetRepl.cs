using System.Text;
using System.Text.Json.Nodes;

namespace FineTune.Kit.Tests.Interactive;

/// <summary>
/// Runs a notebook headless in the engine behind VS Code Polyglot Notebooks: dotnet-repl on .NET Interactive, the
/// version pinned in .config/dotnet-tools.json (restored on first use, as `dotnet tool restore` does for a developer).
/// </summary>
internal static class DotnetRepl
{
    private static readonly Lazy<string> Restore = new(() =>
    {
        var (code, log) = Processes.Run("dotnet", ["tool", "restore"], RepoFiles.Root, TimeSpan.FromMinutes(5));
        if (code != 0) throw new InvalidOperationException($"dotnet tool restore failed ({code}):\n{log}");
        return log;
    });

    /// <summary>
    /// Runs <paramref name="notebook"/> from <paramref name="workingDirectory"/> (where notebooks/NuGet.config is) and
    /// returns the executed notebook dotnet-repl wrote, its exit code and what it printed.
    /// </summary>
    public static EngineRun Run(string notebook, string workingDirectory, string outputPath, TimeSpan timeout)
    {
        _ = Restore.Value;
        var (code, log) = Processes.Run("dotnet",
            ["tool", "run", "dotnet-repl", "--", "--run", notebook, "--exit-after-run", "--output-format", "ipynb", "--output-path", outputPath],
            workingDirectory, timeout);
        var output = File.Exists(outputPath) ? JsonNode.Parse(File.ReadAllText(outputPath))!.AsObject() : null;
        return new EngineRun(code, output, log);
    }
}

/// <summary>An executed notebook as the engine wrote it.</summary>
internal sealed record EngineRun(int ExitCode, JsonObject? Notebook, string Log)
{
    private IEnumerable<(int Number, JsonObject Output)> Outputs =>
        (Notebook?["cells"]?.AsArray() ?? [])
            .Select(c => c!.AsObject()).Where(c => (string?)c["cell_type"] == "code")
            .SelectMany((cell, i) => (cell["outputs"]?.AsArray() ?? []).Select(o => (i + 1, o!.AsObject())));

    /// <summary>Every error output, with the number of its code cell (1-based, as both engines count).</summary>
    public IReadOnlyList<(int Cell, string Name, string Value)> Errors =>
        Outputs.Where(o => (string?)o.Output["output_type"] == "error")
            .Select(o => (o.Number, (string?)o.Output["ename"] ?? "", (string?)o.Output["evalue"] ?? "")).ToList();

    /// <summary>The text/html of every rich output.</summary>
    public IReadOnlyList<string> Html =>
        Outputs.Select(o => o.Output["data"]?["text/html"]).Where(h => h is not null)
            .Select(h => h is JsonArray lines ? string.Concat(lines.Select(l => (string?)l)) : (string?)h ?? "").ToList();

    /// <summary>A readable account of the run for assertion messages.</summary>
    public string Describe() =>
        $"exit code {ExitCode}; errors: " +
        (Errors.Count == 0 ? "none" : string.Join("; ", Errors.Select(e => $"cell {e.Cell}: {e.Name}: {e.Value}"))) +
        $"\n{(Log.Length > 4000 ? Log[^4000..] : Log)}";
}
