using System.Diagnostics;
using System.Text.Json.Nodes;

namespace FineTune.Kit.Tests.Text.Oracle;

/// <summary>
/// Runs the JavaScript reference implementations (npm @huggingface/jinja and @huggingface/tokenizers, versions pinned
/// in package.json and package-lock.json next to this file) through node. The packages are installed with `npm ci`
/// the first time a test needs them (scripts/install-test-deps.sh does it up front).
/// </summary>
internal static class NodeOracle
{
    // one npm ci per oracle folder and test run
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<string>> Installed = new();

    /// <summary>The folder holding package.json and the scripts.</summary>
    public static string Folder => Path.Combine(TextFixtures.RepoRoot, "lib", "FineTune.Kit.Tests", "Text", "Oracle");

    /// <summary>The node executable on PATH, or null.</summary>
    public static string? Node => Which("node");

    /// <summary>Why the oracle cannot run here, or null when it can.</summary>
    public static string? Unavailable => Node is null ? "node is not on PATH (install Node.js 18+ to run the JavaScript conformance oracles)" : null;

    /// <summary>Runs a script of this folder (the jinja and tokenizers oracles) with JSON on stdin and returns its JSON output.</summary>
    public static JsonNode Run(string script, JsonNode input) =>
        RunScript(Folder, ["@huggingface/jinja", "@huggingface/tokenizers"], script, input);

    /// <summary>
    /// Runs <paramref name="script"/> of an oracle folder with JSON on stdin and returns its JSON output, after
    /// `npm ci` there when one of <paramref name="packages"/> is not installed yet.
    /// </summary>
    public static JsonNode RunScript(string folder, IReadOnlyList<string> packages, string script, JsonNode input)
    {
        if (Unavailable is { } reason) throw new InvalidOperationException($"{reason}; under CI the conformance tests must run");
        _ = Installed.GetOrAdd(folder, f => new Lazy<string>(() => Install(f, packages))).Value;
        var info = new ProcessStartInfo(Node!)
        {
            WorkingDirectory = folder, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            StandardInputEncoding = new System.Text.UTF8Encoding(false), StandardOutputEncoding = System.Text.Encoding.UTF8,
        };
        info.ArgumentList.Add(Path.Combine(folder, script));
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(input.ToJsonString());
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"node {script} did not finish in 2 minutes");
        }
        if (process.ExitCode != 0) throw new InvalidOperationException($"node {script} failed ({process.ExitCode}): {stderr.Result}");
        return JsonNode.Parse(stdout.Result)!;
    }

    private static string Install(string folder, IReadOnlyList<string> packages)
    {
        if (packages.All(p => File.Exists(Path.Combine(folder, "node_modules", p, "package.json"))))
            return folder;
        var npm = Which("npm") ?? throw new InvalidOperationException("npm is not on PATH; it installs the JavaScript oracles (npm ci in " + folder + ")");
        var (code, log) = Processes.Run(npm, ["ci", "--no-audit", "--no-fund"], folder, TimeSpan.FromMinutes(5));
        if (code == -1) throw new TimeoutException($"npm ci in {folder} took over 5 minutes");
        if (code != 0) throw new InvalidOperationException($"npm ci in {folder} failed ({code}): {log}");
        return folder;
    }

    private static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
}

/// <summary>
/// A test that compares against the JavaScript oracles. Where node is missing it is skipped with the reason, except
/// under CI (CI=true), where it runs and fails with that reason: conformance must be checked there.
/// </summary>
public sealed class NodeOracleFactAttribute : FactAttribute
{
    public NodeOracleFactAttribute()
    {
        if (NodeOracle.Unavailable is { } reason && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            Skip = reason;
    }
}

/// <summary>Where the text tests' fixture files live in the repository.</summary>
internal static class TextFixtures
{
    public static string RepoRoot { get; } = FindRoot();

    public static string ChatTemplates => Path.Combine(RepoRoot, "lib", "FineTune.Kit.Tests", "Text", "Fixtures", "ChatTemplates");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FineTuneKit.sln"))) return dir.FullName;
        throw new InvalidOperationException($"FineTuneKit.sln not found above {AppContext.BaseDirectory}");
    }
}
