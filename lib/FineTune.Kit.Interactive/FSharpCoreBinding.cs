using System.Reflection;
using System.Runtime.Loader;

namespace FineTune.Kit.Interactive;

/// <summary>
/// Lets Plotly.NET (built against FSharp.Core 10.1) run in an engine that has already loaded an older FSharp.Core
/// (the .NET Interactive tools ship 10.0): a request for FSharp.Core that the default load context cannot satisfy is
/// answered with the copy already loaded. One process can hold only one FSharp.Core in that context, and the minor
/// versions are compatible for what Plotly.NET uses.
/// </summary>
public static class FSharpCoreBinding
{
    private static int _installed;

    /// <summary>Installs the resolver once; later calls do nothing. Returns true on the first call.</summary>
    public static bool Install()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 1) return false;
        AssemblyLoadContext.Default.Resolving += Resolve;
        return true;
    }

    internal static Assembly? Resolve(AssemblyLoadContext context, AssemblyName requested) =>
        requested.Name == "FSharp.Core"
            ? AppDomain.CurrentDomain.GetAssemblies()
                .Where(a => a.GetName().Name == "FSharp.Core" && AssemblyLoadContext.GetLoadContext(a) == context)
                .OrderByDescending(a => a.GetName().Version)
                .FirstOrDefault()
            : null;
}
