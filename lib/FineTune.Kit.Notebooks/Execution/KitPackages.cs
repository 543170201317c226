using System.Reflection;

namespace FineTune.Kit.Notebooks.Execution;

/// <summary>
/// The NuGet packages the runner satisfies from its own dependency set when a notebook asks for them with
/// `#r "nuget: ..."`: they are loaded already, and a second copy would break type identity. Anything else is fetched
/// by <see cref="PackageRestore"/>.
/// </summary>
public static class KitPackages
{
    private static readonly HashSet<string> Exact = new(StringComparer.OrdinalIgnoreCase)
    {
        "TorchSharp", "TorchSharp-cpu", "TorchSharp-cuda-linux", "TorchSharp-cuda-windows",
        "Plotly.NET", "Plotly.NET.Interactive", "Plotly.NET.CSharp",
        "Microsoft.Data.Analysis", "Microsoft.ML.Tokenizers", "FSharp.Core", "Spectre.Console", "System.Text.Json",
        "FineTune.Kit", "FineTune.Kit.Interactive",
    };

    // whole families: native libtorch builds and the Polyglot engine's own packages (its display helpers are provided
    // by the runner)
    private static readonly string[] Prefixes = ["libtorch-", "Microsoft.DotNet.Interactive"];

    /// <summary>
    /// True when the kit carries the package. The list is fixed on purpose: packages that are present only as
    /// indirect dependencies may change with any kit update, so notebooks should not lean on them.
    /// </summary>
    public static bool Covers(string package) =>
        Exact.Contains(package) || Prefixes.Any(p => package.StartsWith(p, StringComparison.OrdinalIgnoreCase));

    /// <summary>The version the kit pins for a package (from Directory.Packages.props at build time), or null.</summary>
    public static string? PinnedVersion(string package) =>
        package.Equals("FineTune.Kit", StringComparison.OrdinalIgnoreCase) || package.Equals("FineTune.Kit.Interactive", StringComparison.OrdinalIgnoreCase)
            ? typeof(KitException).Assembly.GetName().Version?.ToString(3)
            : typeof(KitPackages).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => string.Equals(a.Key, "package:" + package, StringComparison.OrdinalIgnoreCase))?.Value;

    /// <summary>The packages the runner satisfies, for error messages and the documentation.</summary>
    public static IEnumerable<string> Names => Exact.Order().Concat(Prefixes.Select(p => p + "*"));
}
