using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml.Linq;

namespace FineTune.Kit.Notebooks.Execution;

/// <summary>A `#r "nuget: NAME, VERSION"` line of a cell (an empty version means the newest).</summary>
/// <param name="Name">The package id.</param>
/// <param name="Version">The version or range as written, or empty.</param>
/// <param name="Where">The cell and line, for messages.</param>
public sealed record PackageRequest(string Name, string Version, string Where);

/// <summary>
/// Fetches NuGet packages the kit does not carry, the way the Polyglot engine does: a throw-away project that references
/// them is restored with the SDK (so the user's NuGet sources, credentials and cache apply, plus the package sources
/// of a NuGet.config beside the notebook), and the runtime assemblies of the resolved packages become references of
/// the cell. Assemblies the runner already has are not loaded a second time.
/// </summary>
public static class PackageRestore
{
    /// <summary>
    /// Restores <paramref name="packages"/> and returns the assembly files to reference. Throws a
    /// <see cref="NotebookException"/> naming the cell and line when a package cannot be restored.
    /// </summary>
    public static IReadOnlyList<string> Resolve(IReadOnlyList<PackageRequest> packages, string notebookDirectory,
                                                ICollection<string> notes, TimeSpan? timeout = null)
    {
        if (packages.Count == 0) return [];
        var sources = NotebookSources(notebookDirectory);
        var key = string.Join("|", packages.Select(p => $"{p.Name.ToLowerInvariant()}@{p.Version}").Order(StringComparer.Ordinal).Concat(sources));
        var folder = Path.Combine(Path.GetTempPath(), "ftk-notebook-packages",
            Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16].ToLowerInvariant());
        Directory.CreateDirectory(folder);
        var project = Path.Combine(folder, "packages.csproj");
        File.WriteAllText(project, ProjectText(packages, sources));

        var assets = Path.Combine(folder, "obj", "project.assets.json");
        var (exit, output) = RunRestore(project, timeout ?? TimeSpan.FromMinutes(5));
        if (exit != 0 || !File.Exists(assets))
        {
            var where = string.Join("; ", packages.Select(p => p.Where).Distinct());
            var errors = output.Split('\n').Select(l => l.Trim()).Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)).Distinct().Take(5).ToList();
            throw new NotebookException(
                $"{where}: could not restore {string.Join(", ", packages.Select(p => p.Version == "" ? p.Name : $"{p.Name} {p.Version}"))}: " +
                (errors.Count > 0 ? string.Join(" | ", errors.Select(StripProjectPath)) : $"dotnet restore exited with {exit}"));
        }

        var files = RuntimeAssemblies(assets);
        var result = new List<string>();
        foreach (var file in files)
        {
            var simpleName = Path.GetFileNameWithoutExtension(file);
            if (ScriptEnvironment.Shared.HasAssembly(simpleName) || IsSharedFramework(simpleName)) continue;
            result.Add(file);
        }
        foreach (var p in packages)
            notes.Add($"{p.Where}: nuget {p.Name} {p.Version} restored".TrimEnd());
        return result;
    }

    private static readonly Dictionary<string, string> RestoredBySimpleName = new(StringComparer.OrdinalIgnoreCase);
    private static bool _resolverInstalled;

    /// <summary>
    /// Loads restored assembly files into the application's load context, where references between packages resolve
    /// by name and a newer version satisfies an older reference (Microsoft.Extensions.AI.OpenAI 11.0.0 was built against
    /// OpenAI 2.14 and runs on 2.15), as in the Polyglot engine. An assembly of the same name already loaded is reused.
    /// </summary>
    public static IReadOnlyList<System.Reflection.Assembly> Load(IReadOnlyList<string> files)
    {
        lock (RestoredBySimpleName)
        {
            foreach (var file in files) RestoredBySimpleName[Path.GetFileNameWithoutExtension(file)] = file;
            if (!_resolverInstalled)
            {
                System.Runtime.Loader.AssemblyLoadContext.Default.Resolving += (context, name) =>
                {
                    string? path;
                    lock (RestoredBySimpleName) RestoredBySimpleName.TryGetValue(name.Name ?? "", out path);
                    return path is null ? null : context.LoadFromAssemblyPath(path);
                };
                _resolverInstalled = true;
            }
        }
        var loaded = new List<System.Reflection.Assembly>();
        foreach (var file in files)
        {
            var name = Path.GetFileNameWithoutExtension(file);
            var existing = AppDomain.CurrentDomain.GetAssemblies()
                .FirstOrDefault(a => !a.IsDynamic && string.Equals(a.GetName().Name, name, StringComparison.OrdinalIgnoreCase)
                                     && System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(a) == System.Runtime.Loader.AssemblyLoadContext.Default);
            // an assembly the application was started with (its own dependencies, a shared framework such as ASP.NET
            // Core) binds by name: the package's copy must not compete with it
            loaded.Add(existing ?? (Trusted.Value.Contains(name)
                ? System.Runtime.Loader.AssemblyLoadContext.Default.LoadFromAssemblyName(new System.Reflection.AssemblyName(name))
                : System.Runtime.Loader.AssemblyLoadContext.Default.LoadFromAssemblyPath(file)));
        }
        return loaded;
    }

    private static string ProjectText(IReadOnlyList<PackageRequest> packages, IReadOnlyList<string> sources)
    {
        var group = new XElement("ItemGroup", packages.Select(p =>
            new XElement("PackageReference", new XAttribute("Include", p.Name), new XAttribute("Version", p.Version == "" ? "*" : p.Version))));
        var properties = new XElement("PropertyGroup",
            new XElement("TargetFramework", $"net{Environment.Version.Major}.{Environment.Version.Minor}"),
            new XElement("ManagePackageVersionsCentrally", "false"),
            new XElement("ImportDirectoryBuildProps", "false"),
            new XElement("ImportDirectoryPackagesProps", "false"),
            new XElement("RestoreAdditionalProjectSources", string.Join(";", sources)));
        return new XElement("Project", new XAttribute("Sdk", "Microsoft.NET.Sdk"), properties, group).ToString();
    }

    // the package sources of the NuGet.config files from the notebook's folder up, made absolute (a relative source is
    // relative to its file, and the throw-away project lives elsewhere)
    private static List<string> NotebookSources(string notebookDirectory)
    {
        var sources = new List<string>();
        for (var dir = new DirectoryInfo(notebookDirectory); dir is not null; dir = dir.Parent)
        {
            var config = dir.EnumerateFiles().FirstOrDefault(f => f.Name.Equals("nuget.config", StringComparison.OrdinalIgnoreCase));
            if (config is null) continue;
            try
            {
                foreach (var add in XDocument.Load(config.FullName).Root?.Element("packageSources")?.Elements("add") ?? [])
                    if ((string?)add.Attribute("value") is { Length: > 0 } value)
                        sources.Add(Uri.TryCreate(value, UriKind.Absolute, out var uri) && !uri.IsFile ? value : Path.GetFullPath(Path.Combine(dir.FullName, value)));
            }
            catch (System.Xml.XmlException e)
            {
                throw new NotebookException($"{config.FullName}: not a valid NuGet.config ({e.Message})");
            }
        }
        return sources.Where(s => s.Contains("://") || Directory.Exists(s)).Distinct().ToList();
    }

    private static (int Exit, string Output) RunRestore(string project, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(FineTune.Kit.Io.DotnetHost.Executable)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(project)!,
        };
        foreach (var a in new[] { "restore", project, "--nologo", "-v", "q" }) start.ArgumentList.Add(a);
        // a restore started from inside a test host or an SDK command must not inherit its MSBuild settings
        foreach (var name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH" }) start.Environment.Remove(name);
        using var process = Process.Start(start) ?? throw new NotebookException("could not start dotnet to restore packages");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new NotebookException($"package restore did not finish within {timeout.TotalSeconds:0} s");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    // runtime assemblies of every package in the restore graph, from project.assets.json
    private static List<string> RuntimeAssemblies(string assetsPath)
    {
        var assets = JsonNode.Parse(File.ReadAllText(assetsPath))!;
        var packageFolder = (assets["packageFolders"] as JsonObject)?.Select(kv => kv.Key).FirstOrDefault()
            ?? throw new NotebookException($"{assetsPath}: no package folder");
        var target = (assets["targets"] as JsonObject)?.FirstOrDefault().Value as JsonObject
            ?? throw new NotebookException($"{assetsPath}: no restore target");
        var libraries = assets["libraries"] as JsonObject;
        var files = new List<string>();
        foreach (var (id, entry) in target)
        {
            if ((string?)entry?["type"] != "package" || entry["runtime"] is not JsonObject runtime) continue;
            var path = (string?)libraries?[id]?["path"] ?? id.ToLowerInvariant();
            foreach (var (file, _) in runtime)
                if (file.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
                    files.Add(Path.GetFullPath(Path.Combine(packageFolder, path, file)));
        }
        return files;
    }

    // the assemblies the application was started with: its shared frameworks and its own dependencies
    private static readonly Lazy<HashSet<string>> Trusted = new(() =>
        ((AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string) ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(Path.GetFileNameWithoutExtension).OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase));

    // cells reference the base framework (Microsoft.NETCore.App) already
    private static bool IsSharedFramework(string simpleName) =>
        File.Exists(Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), simpleName + ".dll"));

    // restore errors start with the throw-away project's path, which tells the reader nothing
    private static string StripProjectPath(string line)
    {
        var i = line.IndexOf(": error ", StringComparison.Ordinal);
        var text = i >= 0 ? line[(i + 2)..] : line;
        var bracket = text.LastIndexOf(" [", StringComparison.Ordinal);
        return bracket > 0 && text.EndsWith(']') ? text[..bracket] : text;
    }
}
