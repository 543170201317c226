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
    public static string Folder => Path.Combine(TextFixtures.RepoRoot, "lib", "FineTune.Kit.Tests", "Data", "ParquetOracle");

    /// <summary>Writes <paramref name="path"/> with parquet-wasm; see write-parquet.mjs for the column spec.</summary>
    public static void Write(string path, JsonArray columns, int rowGroupSize) =>
        Run("write-parquet.mjs", new JsonObject { ["path"] = path, ["rowGroupSize"] = rowGroupSize, ["columns"] = columns });

    /// <summary>Writes a small file (text, and tags as a list of strings) with hyparquet-writer, which writes data page v2.</summary>
    public static void WriteDataPageV2(string path) => Run("write-parquet-v2.mjs", new JsonObject { ["path"] = path });

    /// <summary>Reads <paramref name="path"/> with hyparquet: its rows, row-group count and schema.</summary>
    public static JsonObject Read(string path) => (JsonObject)Run("read-parquet.mjs", new JsonObject { ["path"] = path });

    private static JsonNode Run(string script, JsonNode input) =>
        NodeOracle.RunScript(Folder, ["hyparquet", "hyparquet-writer", "parquet-wasm", "apache-arrow"], script, input);
}
