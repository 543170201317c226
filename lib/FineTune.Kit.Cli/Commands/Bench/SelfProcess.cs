using System.Diagnostics;

namespace FineTune.Kit.Cli.Commands.Bench;

/// <summary>Runs this same `ftk` in a child process: benchmarks that compare peak memory need a fresh process per run.</summary>
internal static class SelfProcess
{
    /// <summary>Runs `ftk ARGS` to the end and returns its standard output; a failure is an error with its last lines.</summary>
    public static string Run(IEnumerable<string> args)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("The path of this process is unknown.");
        var info = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // `dotnet ftk.dll …` needs the assembly again; an apphost (`ftk …`) does not
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            info.ArgumentList.Add(typeof(SelfProcess).Assembly.Location);
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"ftk {string.Join(' ', info.ArgumentList.Skip(info.ArgumentList.Count - args.Count()))} exited with {process.ExitCode}: " +
                                                string.Join(Environment.NewLine, stderr.Result.Split('\n').TakeLast(5)));
        return stdout;
    }
}
