using System.Text;

namespace FineTune.Kit.Tests.Build;

/// <summary>Checks the build step that marks TorchSharp's GLIBCXX_3.4.32 requirement weak in output copies.</summary>
public class LibStdCxxPatchTests
{
    private static string OutputCopy() =>
        Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    private static string CacheCopy()
    {
        var home = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                   ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(home, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }

    private static bool SystemHasGlibcxx3432() =>
        new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6" }
            .Where(File.Exists).Any(p => File.ReadAllText(p, Encoding.Latin1).Contains("GLIBCXX_3.4.32"));

    /// <summary>Reads the vna_flags of the GLIBCXX_3.4.32 entry in .gnu.version_r.</summary>
    internal static int? VersionFlags(byte[] elf, string version)
    {
        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A), shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (int s = 0; s < shnum; s++)
        {
            int sh = (int)(shoff + s * shentsize);
            if (BitConverter.ToUInt32(elf, sh + 4) != 0x6ffffffe) continue;
            long off = BitConverter.ToInt64(elf, sh + 0x18);
            int link = (int)BitConverter.ToUInt32(elf, sh + 0x28);
            long strOff = BitConverter.ToInt64(elf, (int)(shoff + link * shentsize) + 0x18);
            long vn = off;
            while (true)
            {
                int cnt = BitConverter.ToUInt16(elf, (int)vn + 2);
                long aux = vn + BitConverter.ToUInt32(elf, (int)vn + 8);
                for (int a = 0; a < cnt; a++)
                {
                    int nameAt = (int)(strOff + BitConverter.ToUInt32(elf, (int)aux + 8)), end = nameAt;
                    while (elf[end] != 0) end++;
                    if (Encoding.ASCII.GetString(elf, nameAt, end - nameAt) == version) return BitConverter.ToUInt16(elf, (int)aux + 4);
                    aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                }
                uint next = BitConverter.ToUInt32(elf, (int)vn + 12);
                if (next == 0) return null;
                vn += next;
            }
        }
        return null;
    }

    [Fact]
    public void Output_copy_is_weak_where_the_system_lacks_the_version_and_the_cache_is_untouched()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(CacheCopy())) return;
        var output = File.ReadAllBytes(OutputCopy());
        var cache = File.ReadAllBytes(CacheCopy());
        Assert.Equal(0, VersionFlags(cache, "GLIBCXX_3.4.32")!.Value & 2);          // the package itself is never edited
        if (SystemHasGlibcxx3432()) return;                                            // nothing to patch on GCC 13+ systems
        Assert.Equal(2, VersionFlags(output, "GLIBCXX_3.4.32")!.Value & 2);
        // exactly one byte differs: the flag
        Assert.Equal(cache.Length, output.Length);
        Assert.Equal(1, cache.Zip(output).Count(p => p.First != p.Second));
    }

    [Fact]
    public void The_step_is_wired_into_every_project_of_the_repository()
    {
        var root = RepoFiles.Root;
        var targets = File.ReadAllText(Path.Combine(root, "Directory.Build.targets"));
        Assert.Contains("build/FineTune.Kit.targets", targets);
        var step = File.ReadAllText(Path.Combine(root, "build", "FineTune.Kit.targets"));
        Assert.Contains("GLIBCXX_3.4.32", step);
        Assert.Contains("0x6ffffffe", step);        // SHT_GNU_verneed
    }

}
