using System.Text;
using FineTune.Kit.Interactive.Native;

namespace FineTune.Kit.Tests.Interactive;

/// <summary>
/// The extension's native pre-load: it patches TorchSharp's native library only where the process's libstdc++ lacks
/// the version it asks for, writes the patched copy once into its own cache (never the NuGet cache), and is idempotent.
/// </summary>
public class TorchNativeLoaderTests
{
    // the copy notebook engines load: the one inside TorchSharp's NuGet package, unpatched
    private static string PackagedLibrary()
    {
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var version = typeof(TorchSharp.torch).Assembly.GetName().Version!;
        var path = Path.Combine(root, "torchsharp", $"{version.Major}.{version.Minor}.{version.Build}", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"TorchSharp's packaged native library is not in the NuGet cache: {path}");
        return path;
    }

    private static string FakeLibStdCxx(string folder, bool provides)
    {
        var path = Path.Combine(folder, "libstdc++.so.6");
        var versions = "GLIBCXX_3.4\0GLIBCXX_3.4.30\0" + (provides ? "GLIBCXX_3.4.31\0GLIBCXX_3.4.32\0" : "");
        File.WriteAllBytes(path, [0x7f, (byte)'E', (byte)'L', (byte)'F', .. Encoding.ASCII.GetBytes(versions)]);
        return path;
    }

    [Fact]
    public void The_packaged_library_requires_the_version_strictly_which_is_what_breaks_older_systems()
    {
        var original = PackagedLibrary();
        Assert.True(ElfVersionNeeds.RequiresStrictly(File.ReadAllBytes(original), original, TorchNativeLoader.RequiredVersion));
    }

    [Fact]
    public void Nothing_is_written_where_libstdcxx_provides_the_version()
    {
        using var folder = new TempFolder();
        var cache = Path.Combine(folder.Path, "cache");
        var status = TorchNativeLoader.Plan(FakeLibStdCxx(folder.Path, provides: true), PackagedLibrary(), cache);
        Assert.False(status.Patched);
        Assert.Contains("provides GLIBCXX_3.4.32", status.Reason);
        Assert.False(Directory.Exists(cache));
    }

    [Fact]
    public void A_weakened_copy_is_written_once_into_the_kits_cache_and_reused()
    {
        using var folder = new TempFolder();
        var cache = Path.Combine(folder.Path, "cache");
        var original = PackagedLibrary();
        var originalBytes = File.ReadAllBytes(original);
        var libStdCxx = FakeLibStdCxx(folder.Path, provides: false);

        var first = TorchNativeLoader.Plan(libStdCxx, original, cache);
        Assert.True(first.Patched, first.Reason);
        Assert.StartsWith(cache, first.Library);
        var patched = File.ReadAllBytes(first.Library!);
        Assert.False(ElfVersionNeeds.RequiresStrictly(patched, first.Library!, TorchNativeLoader.RequiredVersion));
        // exactly the flag byte of that one requirement differs; the package's copy is untouched
        Assert.Equal(originalBytes.Length, patched.Length);
        Assert.Equal(1, originalBytes.Zip(patched).Count(p => p.First != p.Second));
        Assert.Equal(originalBytes, File.ReadAllBytes(original));
        // every other requirement keeps its flags
        var before = ElfVersionNeeds.Read(originalBytes, original).Where(n => n.Version != TorchNativeLoader.RequiredVersion);
        var after = ElfVersionNeeds.Read(patched, first.Library!).Where(n => n.Version != TorchNativeLoader.RequiredVersion);
        Assert.Equal(before, after);

        var written = File.GetLastWriteTimeUtc(first.Library!);
        var second = TorchNativeLoader.Plan(libStdCxx, original, cache);
        Assert.Equal(first, second);
        Assert.Equal(written, File.GetLastWriteTimeUtc(second.Library!));
        Assert.Single(Directory.GetFiles(cache, "*", SearchOption.AllDirectories));

        // a library that is already weak (the build's own output copies) is left alone
        var again = TorchNativeLoader.Plan(libStdCxx, first.Library, Path.Combine(folder.Path, "other"));
        Assert.False(again.Patched);
        Assert.Contains("does not require", again.Reason);
    }

    [Fact]
    public void The_process_libstdcxx_is_found_and_the_preload_is_idempotent_and_leaves_torch_working()
    {
        var loaded = TorchNativeLoader.LoadedLibStdCxx();
        Assert.NotNull(loaded);
        Assert.True(File.Exists(loaded), loaded);

        var first = TorchNativeLoader.EnsureLoadable();
        var second = TorchNativeLoader.EnsureLoadable();
        Assert.Same(first, second);
        using var sum = TorchSharp.torch.ones(3).sum();
        Assert.Equal(3f, sum.item<float>());
    }

    [Fact]
    public void A_file_that_is_not_elf_is_named_in_the_error()
    {
        var e = Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Read(Encoding.ASCII.GetBytes("not a library at all, just text......................................"), "some.so"));
        Assert.Contains("some.so", e.Message);
        var truncated = File.ReadAllBytes(PackagedLibrary())[..4096];
        var t = Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Read(truncated, "cut.so"));
        Assert.Contains("cut.so", t.Message);
    }

    [Fact]
    public void Libtorch_is_taken_from_the_package_cache_beside_TorchSharp_not_from_the_system()
    {
        // a package-cache layout: torchsharp/V/lib/TFM/TorchSharp.dll and two libtorch packages
        using var folder = new TempFolder();
        var torchDll = folder.File("torchsharp/0.107.0/lib/net6.0/TorchSharp.dll");
        Directory.CreateDirectory(Path.GetDirectoryName(torchDll)!);
        File.WriteAllBytes(torchDll, []);
        foreach (var version in new[] { "2.5.1.0", "2.10.0.1" })
        {
            var native = folder.File($"libtorch-cpu-linux-x64/{version}/runtimes/linux-x64/native");
            Directory.CreateDirectory(native);
            File.WriteAllBytes(Path.Combine(native, "libtorch_cpu.so"), []);
        }
        Directory.CreateDirectory(folder.File("libtorch-cpu/2.10.0.1"));   // the meta package carries no library

        // the highest version wins (2.10 over 2.5: compared as versions, not as text)
        Assert.Equal(folder.File("libtorch-cpu-linux-x64/2.10.0.1/runtimes/linux-x64/native"), TorchNativeLoader.FindLibTorch(torchDll));
        // a build output carries libtorch beside TorchSharp.dll
        File.WriteAllBytes(folder.File("torchsharp/0.107.0/lib/net6.0/libtorch_cpu.so"), []);
        Assert.Equal(folder.File("torchsharp/0.107.0/lib/net6.0"), TorchNativeLoader.FindLibTorch(torchDll));

        // and the real cache has the one this TorchSharp restored
        var real = TorchNativeLoader.FindLibTorch(Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(PackagedLibrary()))!)!, "..", "lib", "net6.0", "TorchSharp.dll"));
        Assert.NotNull(real);
        Assert.Contains("libtorch-", real);
    }
}
