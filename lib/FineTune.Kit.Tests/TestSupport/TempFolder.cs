namespace FineTune.Kit.Tests;

/// <summary>
/// Temporary folders for tests, all under one folder per test process. <c>using var tmp = new TempFolder();</c> gives
/// a folder deleted at the end of the test; <see cref="Fresh"/> gives one that lives until the test process ends
/// (for fixtures shared by several tests). Either way nothing is left behind in the system temp folder.
/// </summary>
internal sealed class TempFolder : IDisposable
{
    /// <summary>The folder that holds every temporary folder of this test process; deleted when the process exits.</summary>
    public static string Root { get; } = CreateRoot();

    /// <summary>Creates an empty folder, deleted on <see cref="Dispose"/>.</summary>
    public TempFolder() => Path = Fresh();

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>The path of <paramref name="name"/> inside the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes <paramref name="content"/> to <paramref name="name"/> inside the folder and returns its path.</summary>
    public string File(string name, string content)
    {
        var path = File(name);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    /// <summary>The path of <paramref name="name"/> inside the folder.</summary>
    public string this[string name] => File(name);

    /// <summary>A new empty folder that lives until the test process exits.</summary>
    public static string Fresh()
    {
        var path = System.IO.Path.Combine(Root, Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        return path;
    }

    public void Dispose() => Delete(Path);

    private static string CreateRoot()
    {
        var root = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ftk-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Delete(root);
        return root;
    }

    private static void Delete(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // a thread of an abandoned notebook cell may still hold a file; the process-exit sweep tries again
        }
    }
}
