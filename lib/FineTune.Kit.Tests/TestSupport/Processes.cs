using System.Diagnostics;
using System.Text;

namespace FineTune.Kit.Tests;

/// <summary>Runs the other programs tests talk to (dotnet tools, nbconvert, npm) and collects what they print.</summary>
internal static class Processes
{
    /// <summary>Runs a command to its end (killed with its children past the timeout); returns its exit code and output.</summary>
    public static (int Code, string Log) Run(string file, IEnumerable<string> args, string directory, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        using var process = Process.Start(info)!;
        var log = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"timed out after {timeout.TotalSeconds} s\n{log}");
        }
        process.WaitForExit();
        lock (log) return (process.ExitCode, log.ToString());
    }
}
