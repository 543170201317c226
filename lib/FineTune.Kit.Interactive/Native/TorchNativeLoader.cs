using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Security.Cryptography;
using System.Text;

namespace FineTune.Kit.Interactive.Native;

/// <summary>What <see cref="TorchNativeLoader.EnsureLoadable"/> found and did.</summary>
/// <param name="Patched">True when a patched copy of libLibTorchSharp.so was loaded.</param>
/// <param name="Reason">Why (e.g. "libstdc++ provides GLIBCXX_3.4.32").</param>
/// <param name="Library">The copy that TorchSharp will use, when one was loaded or checked.</param>
public sealed record TorchNativeStatus(bool Patched, string Reason, string? Library = null);

/// <summary>
/// Makes TorchSharp's native library load on a system libstdc++ older than the one it was built against (Debian 12,
/// Ubuntu 22.04), before any torch call. Notebook engines load TorchSharp straight from the NuGet cache, whose
/// libLibTorchSharp.so asks for GLIBCXX_3.4.32 for one symbol that nothing binds; the loader refuses it for that alone.
/// </summary>
/// <remarks>
/// Detects, never assumes: where the process's libstdc++ provides the version, or the library does not require it
/// strictly (a build output the kit already patched), nothing is done. Otherwise a copy with that one requirement marked
/// weak is written to a cache folder the kit owns (never the NuGet cache), once per library content, atomically; its
/// libtorch dependencies are loaded from where TorchSharp itself finds them, the copy is loaded, and TorchSharp's
/// look-up of "LibTorchSharp" is answered with it. Calling it again does nothing and returns the first result.
/// </remarks>
public static class TorchNativeLoader
{
    /// <summary>The libstdc++ symbol version TorchSharp 0.107's native library asks for.</summary>
    public const string RequiredVersion = "GLIBCXX_3.4.32";

    private static readonly object Gate = new();
    private static TorchNativeStatus? _done;
    private static IntPtr _handle;

    /// <summary>
    /// The folder for patched copies: $FTK_NATIVE_CACHE, else $XDG_CACHE_HOME/finetune-kit/native, else
    /// ~/.cache/finetune-kit/native.
    /// </summary>
    public static string DefaultCacheRoot =>
        Environment.GetEnvironmentVariable("FTK_NATIVE_CACHE") is { Length: > 0 } explicitRoot ? explicitRoot
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "finetune-kit", "native");

    /// <summary>Makes TorchSharp loadable in this process if it needs help; safe to call any number of times.</summary>
    public static TorchNativeStatus EnsureLoadable()
    {
        lock (Gate)
        {
            if (_done is not null) return _done;
            var torch = typeof(TorchSharp.torch).Assembly; // the managed assembly only: no native code runs
            var plan = Plan(LoadedLibStdCxx(), FindOriginal(torch), DefaultCacheRoot);
            if (plan.Patched) Load(plan.Library!, torch);
            return _done = plan;
        }
    }

    /// <summary>
    /// Decides what to do for a libstdc++ and a libLibTorchSharp.so, and writes the patched copy under
    /// <paramref name="cacheRoot"/> when one is needed (reusing an existing one). Loads nothing.
    /// </summary>
    internal static TorchNativeStatus Plan(string? libStdCxx, string? original, string cacheRoot)
    {
        if (!OperatingSystem.IsLinux()) return new(false, "not Linux: nothing to patch");
        if (libStdCxx is not null && ProvidesVersion(libStdCxx))
            return new(false, $"libstdc++ provides {RequiredVersion}", original);
        if (original is null || !File.Exists(original))
            return new(false, "libLibTorchSharp.so not found beside TorchSharp or in its package; TorchSharp will report what it misses");
        var bytes = File.ReadAllBytes(original);
        if (!ElfVersionNeeds.RequiresStrictly(bytes, original, RequiredVersion))
            return new(false, $"{Path.GetFileName(original)} does not require {RequiredVersion} strictly", original);

        var hash = Convert.ToHexString(SHA256.HashData(bytes))[..16].ToLowerInvariant();
        var patched = Path.Combine(cacheRoot, hash, Path.GetFileName(original));
        if (!File.Exists(patched))
        {
            ElfVersionNeeds.MarkWeak(bytes, original, RequiredVersion);
            Directory.CreateDirectory(Path.GetDirectoryName(patched)!);
            // several kernels may start at once: each writes its own temp file and renames it into place
            var temp = patched + "." + Guid.NewGuid().ToString("N") + ".tmp";
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, patched, overwrite: true);
        }
        return new(true, $"libstdc++ lacks {RequiredVersion}: loaded a copy of libLibTorchSharp.so with that requirement marked weak", patched);
    }

    /// <summary>True when the libstdc++ file defines the symbol version TorchSharp asks for.</summary>
    internal static bool ProvidesVersion(string libStdCxx)
    {
        var needle = Encoding.ASCII.GetBytes(RequiredVersion + "\0");
        return File.ReadAllBytes(libStdCxx).AsSpan().IndexOf(needle) >= 0;
    }

    /// <summary>The libstdc++ this process has mapped (from /proc/self/maps), or null.</summary>
    internal static string? LoadedLibStdCxx()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/self/maps")) return null;
        return File.ReadLines("/proc/self/maps")
            .Select(line => line.IndexOf('/') is var at and >= 0 ? line[at..] : "")
            .FirstOrDefault(path => Path.GetFileName(path).StartsWith("libstdc++.so", StringComparison.Ordinal));
    }

    /// <summary>
    /// libLibTorchSharp.so as TorchSharp would find it: beside TorchSharp.dll (a build output), else in the package's
    /// runtimes/RID/native folder (lib/TFM/TorchSharp.dll → ../../runtimes/RID/native).
    /// </summary>
    internal static string? FindOriginal(Assembly torch)
    {
        var dir = Path.GetDirectoryName(torch.Location);
        if (string.IsNullOrEmpty(dir)) return null;
        var beside = Path.Combine(dir, "libLibTorchSharp.so");
        if (File.Exists(beside)) return beside;
        var rid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        var packaged = Path.GetFullPath(Path.Combine(dir, "..", "..", "runtimes", rid, "native", "libLibTorchSharp.so"));
        return File.Exists(packaged) ? packaged : null;
    }

    /// <summary>
    /// The folder of the libtorch the restored TorchSharp packages carry: beside TorchSharp.dll (a build output), else
    /// a libtorch-* package next to TorchSharp's in the package cache (torchsharp/V/lib/TFM/TorchSharp.dll → four folders
    /// up, then libtorch-*/VERSION/runtimes/RID/native), the highest version when there are several; null when none.
    /// </summary>
    internal static string? FindLibTorch(string torchAssembly)
    {
        var dir = Path.GetDirectoryName(torchAssembly);
        if (string.IsNullOrEmpty(dir)) return null;
        if (File.Exists(Path.Combine(dir, "libtorch_cpu.so"))) return dir;
        var packages = Path.GetFullPath(Path.Combine(dir, "..", "..", "..", ".."));
        if (!Directory.Exists(packages)) return null;
        var rid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        return Directory.EnumerateDirectories(packages, "libtorch-*")
            .SelectMany(Directory.EnumerateDirectories)
            .Select(version => (Version: Path.GetFileName(version), Native: Path.Combine(version, "runtimes", rid, "native")))
            .Where(c => File.Exists(Path.Combine(c.Native, "libtorch_cpu.so")))
            .OrderByDescending(c => System.Version.TryParse(c.Version.Split('-')[0], out var v) ? v : new Version(0, 0))
            .Select(c => c.Native)
            .FirstOrDefault();
    }

    private static void Load(string patched, Assembly torch)
    {
        // libtorch itself has no version problem, but it must be the packages' copy: a libtorch installed system-wide
        // (Debian's python3-torch brings 1.13) would otherwise answer the search by name first
        var libTorch = FindLibTorch(torch.Location);
        foreach (var dependency in new[] { "c10", "torch_cpu", "torch" })
        {
            var file = libTorch is null ? null : Path.Combine(libTorch, $"lib{dependency}.so");
            if (file is not null && File.Exists(file)) NativeLibrary.Load(file);
            else NativeLibrary.TryLoad(dependency, torch, null, out _);
        }
        if (!NativeLibrary.TryLoad(patched, out _handle))
            throw new DllNotFoundException(
                $"{patched}: the patched TorchSharp native library did not load; check that the libtorch package of " +
                "TorchSharp's version is restored (e.g. #r \"nuget: TorchSharp-cpu\")");
        var contexts = new HashSet<AssemblyLoadContext> { AssemblyLoadContext.Default };
        if (AssemblyLoadContext.GetLoadContext(torch) is { } own) contexts.Add(own);
        foreach (var context in contexts) context.ResolvingUnmanagedDll += AnswerLibTorchSharp;
    }

    private static IntPtr AnswerLibTorchSharp(Assembly requester, string name) =>
        name is "LibTorchSharp" or "libLibTorchSharp" or "libLibTorchSharp.so" ? _handle : IntPtr.Zero;
}
