using System.Diagnostics;
using System.Text.Json.Nodes;
using FineTune.Kit.Tests.Text.Oracle;

namespace FineTune.Kit.Tests.Data.ParquetOracle;

/// <summary>
/// Independent Parquet implementations run through node: parquet-wasm (the Rust arrow-rs writer) writes files the
/// kit reads, hyparquet (pure JavaScript) reads files the kit writes. Versions are pinned in package.json and
/// package-lock.json next to this file; `npm ci` installs them the first time (scripts/install-test-deps.sh does it
/// up front). Tests use <see cref="NodeOracleFactAttribute"/>: skipped with the reason where node is missing, except
/// under CI.
/// </summary>
internal static class ParquetOracle
{
    private static readonly Lazy<string> Installed = new(Install);

    public static string Folder => Path.Combine(TextFixtures.RepoRoot, "lib", "FineTune.Kit.Tests", "Data", "ParquetOracle");

    /// <summary>Writes <paramref name="path"/> with parquet-wasm; see write-parquet.mjs for the column spec.</summary>
    public static void Write(string path, JsonArray columns, int rowGroupSize) =>
        Run("write-parquet.mjs", new JsonObject { ["path"] = path, ["rowGroupSize"] = rowGroupSize, ["columns"] = columns });

    /// <summary>Writes a small file (text, and tags as a list of strings) with hyparquet-writer, which writes data page v2.</summary>
    public static void WriteDataPageV2(string path) => Run("write-parquet-v2.mjs", new JsonObject { ["path"] = path });

    /// <summary>Reads <paramref name="path"/> with hyparquet: its rows, row-group count and schema.</summary>
    public static JsonObject Read(string path) => (JsonObject)Run("read-parquet.mjs", new JsonObject { ["path"] = path });

    private static JsonNode Run(string script, JsonNode input)
    {
        if (NodeOracle.Unavailable is { } reason) throw new InvalidOperationException(reason);
        var folder = Installed.Value;
        var info = new ProcessStartInfo(NodeOracle.Node!)
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

    private static string Install()
    {
        var folder = Folder;
        if (new[] { "hyparquet", "hyparquet-writer", "parquet-wasm", "apache-arrow" }.All(p => File.Exists(Path.Combine(folder, "node_modules", p, "package.json"))))
            return folder;
        var npm = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                      .Select(d => Path.Combine(d, "npm")).FirstOrDefault(File.Exists)
                  ?? throw new InvalidOperationException("npm is not on PATH; it installs the Parquet oracles (npm ci in " + folder + ")");
        var (code, log) = Processes.Run(npm, ["ci", "--no-audit", "--no-fund"], folder, TimeSpan.FromMinutes(5));
        if (code != 0) throw new InvalidOperationException($"npm ci in {folder} failed ({code}): {log}");
        return folder;
    }
}
