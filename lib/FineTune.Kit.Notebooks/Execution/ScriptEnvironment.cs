using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace FineTune.Kit.Notebooks.Execution;

/// <summary>
/// What every notebook cell compiles against: the .NET shared framework, the kit's assemblies and everything they
/// depend on (TorchSharp, Plotly.NET, Microsoft.Data.Analysis, ...), and default imports that include every kit
/// namespace found in the loaded assemblies, so namespaces added to the kit later are picked up without a change here.
/// </summary>
public sealed class ScriptEnvironment
{
    private static readonly Lazy<ScriptEnvironment> Lazy = new(() => new ScriptEnvironment());

    // the kit's dependency set by name: a package the kit references but does not use yet leaves no reference in
    // its assembly, and some (Plotly.NET.CSharp, Spectre.Console) are there for notebooks only; absent ones are skipped
    private static readonly string[] DependencySet =
    [
        "TorchSharp", "Plotly.NET", "Plotly.NET.CSharp", "FSharp.Core", "Microsoft.Data.Analysis", "Microsoft.ML.Tokenizers",
        "Spectre.Console",
    ];

    private static readonly string[] BaseImports =
    [
        "System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Text", "System.Threading.Tasks",
    ];

    private readonly Dictionary<string, Assembly> _bySimpleName;

    private ScriptEnvironment()
    {
        var frameworkDir = RuntimeEnvironment.GetRuntimeDirectory();
        KitAssemblies = FindKitAssemblies();
        var closure = new Dictionary<string, Assembly>(StringComparer.OrdinalIgnoreCase);
        foreach (var asm in KitAssemblies) AddWithDependencies(asm, closure, frameworkDir);
        foreach (var name in DependencySet)
            if (TryLoad(new AssemblyName(name)) is { } asm) AddWithDependencies(asm, closure, frameworkDir);
        _bySimpleName = closure;

        var references = new List<MetadataReference>();
        foreach (var file in Directory.EnumerateFiles(frameworkDir, "*.dll").Order(StringComparer.Ordinal))
            if (IsManaged(file)) references.Add(MetadataReference.CreateFromFile(file));
        references.AddRange(closure.Values.Where(a => a.Location != "").Select(a => MetadataReference.CreateFromFile(a.Location)));
        References = references;

        Imports = BaseImports.Concat(KitAssemblies.SelectMany(ExportedNamespaces).Distinct().Order(StringComparer.Ordinal)).ToList();
    }

    /// <summary>The one environment of this process (building it scans the loaded assemblies once).</summary>
    public static ScriptEnvironment Shared => Lazy.Value;

    /// <summary>FineTune.Kit and its sibling library assemblies present in this application.</summary>
    public IReadOnlyList<Assembly> KitAssemblies { get; }

    /// <summary>Every assembly outside the shared framework that cells compile against.</summary>
    public IReadOnlyCollection<Assembly> Assemblies => _bySimpleName.Values;

    /// <summary>Metadata references of the framework and of <see cref="Assemblies"/>.</summary>
    public IReadOnlyList<MetadataReference> References { get; }

    /// <summary>The namespaces every cell imports.</summary>
    public IReadOnlyList<string> Imports { get; }

    /// <summary>True when an assembly of that simple name (e.g. `FineTune.Kit`, `TorchSharp`) is already referenced.</summary>
    public bool HasAssembly(string simpleName) => _bySimpleName.ContainsKey(simpleName);

    /// <summary>Script options for cells of a notebook in <paramref name="notebookDirectory"/>.</summary>
    public ScriptOptions Options(string notebookDirectory) =>
        ScriptOptions.Default
            .WithReferences(References)
            .WithImports(Imports)
            .WithLanguageVersion(LanguageVersion.Latest)
            .WithAllowUnsafe(true)
            .WithEmitDebugInformation(true)
            .WithFileEncoding(System.Text.Encoding.UTF8) // debug information (line numbers in stack traces) needs it
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(notebookDirectory))
            .WithSourceResolver(ScriptSourceResolver.Default.WithBaseDirectory(notebookDirectory));

    private static List<Assembly> FindKitAssemblies()
    {
        var found = new Dictionary<string, Assembly>(StringComparer.OrdinalIgnoreCase);
        foreach (var asm in new[] { typeof(KitException).Assembly, typeof(ScriptEnvironment).Assembly })
            found[asm.GetName().Name!] = asm;
        // sibling libraries (FineTune.Kit.*.dll) beside the application, but not its tests
        foreach (var file in Directory.EnumerateFiles(AppContext.BaseDirectory, "FineTune.Kit.*.dll"))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            if (found.ContainsKey(name) || name.EndsWith(".Tests", StringComparison.OrdinalIgnoreCase)) continue;
            if (TryLoad(new AssemblyName(name)) is { } asm) found[name] = asm;
        }
        return found.Values.OrderBy(a => a.GetName().Name, StringComparer.Ordinal).ToList();
    }

    private static void AddWithDependencies(Assembly asm, Dictionary<string, Assembly> closure, string frameworkDir)
    {
        var name = asm.GetName().Name!;
        if (asm.IsDynamic || closure.ContainsKey(name) || IsFramework(asm, frameworkDir)) return;
        closure[name] = asm;
        foreach (var reference in asm.GetReferencedAssemblies())
            if (TryLoad(reference) is { } dependency) AddWithDependencies(dependency, closure, frameworkDir);
    }

    private static bool IsFramework(Assembly asm, string frameworkDir) =>
        asm.Location == "" || asm.Location.StartsWith(frameworkDir, StringComparison.Ordinal);

    private static Assembly? TryLoad(AssemblyName name)
    {
        try
        {
            return Assembly.Load(name);
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            return null; // an optional dependency the application does not ship
        }
    }

    private static bool IsManaged(string file)
    {
        try
        {
            AssemblyName.GetAssemblyName(file);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }

    private static IEnumerable<string> ExportedNamespaces(Assembly asm)
    {
        Type?[] types;
        try
        {
            types = asm.GetExportedTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            types = e.Types;
        }
        return types.Where(t => t?.Namespace is not null).Select(t => t!.Namespace!);
    }
}
