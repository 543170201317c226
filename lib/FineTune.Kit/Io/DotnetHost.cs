namespace FineTune.Kit.Io;

/// <summary>The <c>dotnet</c> executable to start child .NET processes with (<c>dotnet restore</c>, <c>dotnet ftk.dll</c>).</summary>
public static class DotnetHost
{
    /// <summary>
    /// The <c>dotnet</c> running this process (a notebook engine, a test host), else the one the SDK names for its child
    /// processes (DOTNET_HOST_PATH), else <c>dotnet</c> from PATH.
    /// </summary>
    public static string Executable
    {
        get
        {
            var self = Environment.ProcessPath;
            if (self is not null && Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase)) return self;
            return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        }
    }
}
