using System.Diagnostics;

namespace FineTune.Kit.Tests.Notebooks;

public class QuickstartScriptTests
{
    [Fact]
    public async Task Quickstart_runs_as_a_file_based_app_with_torch_and_a_chart()
    {
        using var folder = new TempFolder();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = RepoFiles.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "run", "scripts/quickstart.cs", "--", folder.Path }) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = await process.StandardOutput.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        await process.WaitForExitAsync(limit.Token);

        Assert.True(process.ExitCode == 0, stdout + await stderr);
        Assert.Contains("torch.ones(2, 2).sum() = 4", stdout);
        var page = File.ReadAllText(Path.Combine(folder.Path, "quickstart.html"));
        Assert.Contains("Plotly.newPlot", page);
        Assert.Contains("training loss", page);
    }
}
