using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace FineTune.Kit.Serving;

/// <summary>
/// <c>ftk serve</c> running as a child process, the way a deployment runs it: started, waited for until it prints
/// <c>listening on http://HOST:PORT</c>, and stopped gracefully (it answers what it accepted, then exits). For
/// notebooks and scripts that want to call the real server with an HTTP client such as the OpenAI SDK.
/// </summary>
/// <example>
/// <code>
/// using var server = ServeProcess.Start("ftk", ["--model", "out/merged", "--port", "0", "--log", "requests.db"]);
/// var client = new OpenAI.Chat.ChatClient("merged", new ApiKeyCredential("unused"),
///     new OpenAIClientOptions { Endpoint = new Uri(server.Address, "/v1") });
/// </code>
/// </example>
public sealed partial class ServeProcess : IDisposable
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<ServeProcess, byte> Running = new();
    private readonly Process _process;
    private readonly StringBuilder _errors;
    private bool _disposed;

    // a notebook engine that exits (or a cell that fails before Stop) must not leave a server running
    static ServeProcess() => AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAll(TimeSpan.FromSeconds(5));

    private ServeProcess(Process process, Uri address, StringBuilder errors)
    {
        _process = process;
        Address = address;
        _errors = errors;
    }

    /// <summary>The server's base address (<c>http://HOST:PORT/</c>).</summary>
    public Uri Address { get; }

    /// <summary>The operating system's id of the server process.</summary>
    public int ProcessId => _process.Id;

    /// <summary>True once the server process has ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code once the server has ended (0 after a graceful stop).</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>What the server wrote to standard error so far (its start-up line, warnings).</summary>
    public string ErrorOutput
    {
        get { lock (_errors) return _errors.ToString(); }
    }

    /// <summary>
    /// Starts <c>ftk serve</c> with <paramref name="serveArguments"/> (the options after <c>serve</c>) and waits until it
    /// listens. <paramref name="ftk"/> is the <c>ftk</c> command: an executable, or the <c>ftk.dll</c> of a build (run
    /// with the same <c>dotnet</c> as this process). A server that exits or stays silent before listening is an error
    /// carrying what it wrote.
    /// </summary>
    public static ServeProcess Start(string ftk, IEnumerable<string> serveArguments, TimeSpan? startTimeout = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(ftk);
        var timeout = startTimeout ?? TimeSpan.FromMinutes(2);
        if (timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(startTimeout), "the start timeout must be positive");
        var isDll = ftk.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        if ((isDll || ftk.Contains('/') || ftk.Contains('\\')) && !File.Exists(ftk))
            throw new FileNotFoundException($"ftk not found at {Path.GetFullPath(ftk)}: build the kit first (dotnet build FineTuneKit.sln -c Release)", ftk);

        var start = new ProcessStartInfo(isDll ? FineTune.Kit.Io.DotnetHost.Executable : ftk)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        if (isDll) start.ArgumentList.Add(Path.GetFullPath(ftk));
        start.ArgumentList.Add("serve");
        foreach (var a in serveArguments) start.ArgumentList.Add(a);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {ftk}");
        var errors = new StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) lock (errors) errors.AppendLine(e.Data);
        };
        process.BeginErrorReadLine();
        try
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var read = process.StandardOutput.ReadLineAsync();
                var left = timeout - clock.Elapsed;
                if (left <= TimeSpan.Zero || !read.Wait(left))
                    throw new TimeoutException($"ftk serve did not listen within {timeout.TotalSeconds:0} s; it wrote: {Tail(errors)}");
                if (read.Result is null)
                {
                    process.WaitForExit();
                    throw new InvalidOperationException($"ftk serve exited with code {process.ExitCode} before listening: {Tail(errors)}");
                }
                if (Listening().Match(read.Result) is { Success: true } match)
                {
                    var server = new ServeProcess(process, new Uri(match.Groups["url"].Value + "/"), errors);
                    Running[server] = 0;
                    // keep reading standard output so that the server never blocks on a full pipe
                    _ = process.StandardOutput.ReadToEndAsync();
                    return server;
                }
            }
        }
        catch
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Stops the server the way an operator does (SIGTERM on Linux and macOS): it stops accepting requests, answers
    /// those it accepted and exits. Killed if it has not exited after <paramref name="grace"/> (default 30 s).
    /// </summary>
    public void Stop(TimeSpan? grace = null)
    {
        Running.TryRemove(this, out _);
        if (_disposed || _process.HasExited) return;
        if (!OperatingSystem.IsWindows() && Terminate(_process.Id, 15) == 0 && _process.WaitForExit(grace ?? TimeSpan.FromSeconds(30)))
            return;
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>
    /// Stops every server this process started and has not stopped yet: a notebook cell that starts a server calls it
    /// first, so that running the cell again does not leave the previous server listening.
    /// </summary>
    public static void StopAll(TimeSpan? grace = null)
    {
        foreach (var server in Running.Keys) server.Stop(grace);
    }

    /// <summary>Stops the server (see <see cref="Stop"/>) and releases the process handle.</summary>
    public void Dispose()
    {
        Stop();
        _disposed = true;
        _process.Dispose();
    }

    [GeneratedRegex(@"^listening on (?<url>https?://\S+?)/?$")]
    private static partial Regex Listening();

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Terminate(int pid, int signal);

    private static string Tail(StringBuilder errors)
    {
        lock (errors)
        {
            var text = errors.ToString().Trim();
            return text.Length == 0 ? "(nothing on standard error)" : text.Length <= 2000 ? text : "..." + text[^2000..];
        }
    }
}
