using System.Text.Json.Nodes;

namespace FineTune.Kit.Tests.Interactive;

/// <summary>
/// Runs a notebook the Jupyter way: `jupyter nbconvert --to notebook --execute` with the .NET Interactive kernel from
/// the tool manifest. The kernel spec is the one `dotnet-interactive jupyter install` writes, placed in a folder of the
/// test's own (JUPYTER_PATH) so nothing is installed into the user's Jupyter setup.
/// </summary>
internal static class Jupyter
{
    /// <summary>The nbconvert command (Debian's jupyter-nbconvert), or null when it is not installed.</summary>
    public static string? NbConvert =>
        new[] { "/usr/bin/jupyter-nbconvert", "/usr/local/bin/jupyter-nbconvert" }.FirstOrDefault(File.Exists);

    public static EngineRun Execute(string notebook, string output, string kernelFolder, TimeSpan timeout)
    {
        var nbconvert = NbConvert ?? throw new InvalidOperationException(
            "jupyter-nbconvert is not installed (Debian: apt-get install jupyter-nbconvert python3-ipykernel; scripts/install-test-deps.sh does it)");
        var spec = Path.Combine(kernelFolder, "kernels", ".net-csharp");
        Directory.CreateDirectory(spec);
        var argv = new JsonArray("dotnet", "tool", "run", "dotnet-interactive", "--", "jupyter", "--default-kernel", "csharp",
            "{connection_file}", "--http-port-range", "2048-3000");
        File.WriteAllText(Path.Combine(spec, "kernel.json"),
            new JsonObject { ["argv"] = argv, ["display_name"] = ".NET (C#)", ["language"] = "C#" }.ToJsonString());

        var (code, log) = Processes.Run(nbconvert,
            ["--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=600", "--ExecutePreprocessor.kernel_name=.net-csharp",
             notebook, "--output", output],
            Path.GetDirectoryName(notebook)!, timeout,
            new Dictionary<string, string> { ["JUPYTER_PATH"] = kernelFolder, ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1" });
        var json = File.Exists(output) ? JsonNode.Parse(File.ReadAllText(output))!.AsObject() : null;
        return new EngineRun(code, json, log);
    }
}
