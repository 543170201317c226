using System.Text;

namespace FineTune.Kit.Interactive.Native;

/// <summary>
/// Reads and edits the version requirements (`.gnu.version_r`, the entries `readelf -V` lists under "Version needs")
/// of a 64-bit little-endian ELF shared library.
/// </summary>
/// <remarks>
/// A requirement marked weak (VER_FLG_WEAK) no longer stops the loader when the providing library lacks that version;
/// only symbols actually bound to it would. The build marks GLIBCXX_3.4.32 weak in its own output copies of
/// libLibTorchSharp.so (build/FineTune.Kit.targets); this class does the same at run time, for the copy a notebook
/// engine takes from the NuGet cache.
/// </remarks>
internal static class ElfVersionNeeds
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    /// <summary>One required version: its name, whether it is weak, and where its flags are in the file.</summary>
    public readonly record struct Need(string Version, bool Weak, int FlagsOffset);

    /// <summary>Every version requirement of the library.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a 64-bit little-endian ELF file.</exception>
    public static List<Need> Read(byte[] elf, string file)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException($"{file}: not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException($"{file}: only 64-bit little-endian ELF files are supported");
        var needs = new List<Need>();
        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A), shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (int s = 0; s < shnum; s++)
        {
            int sh = Checked(shoff + (long)s * shentsize, 0x40, elf, file);
            if (BitConverter.ToUInt32(elf, sh + 4) != ShtGnuVerneed) continue;
            long entries = BitConverter.ToInt64(elf, sh + 0x18);
            int link = (int)BitConverter.ToUInt32(elf, sh + 0x28);
            int strtab = Checked(shoff + (long)link * shentsize, 0x40, elf, file);
            long strings = BitConverter.ToInt64(elf, strtab + 0x18);
            long vn = entries;
            while (true)
            {
                int entry = Checked(vn, 16, elf, file);
                int count = BitConverter.ToUInt16(elf, entry + 2);
                long aux = vn + BitConverter.ToUInt32(elf, entry + 8);
                for (int a = 0; a < count; a++)
                {
                    int at = Checked(aux, 16, elf, file);
                    int name = Checked(strings + BitConverter.ToUInt32(elf, at + 8), 1, elf, file);
                    int end = Array.IndexOf(elf, (byte)0, name);
                    if (end < 0) throw new InvalidDataException($"{file}: unterminated version name at byte {name}");
                    var flags = BitConverter.ToUInt16(elf, at + 4);
                    needs.Add(new Need(Encoding.ASCII.GetString(elf, name, end - name), (flags & VerFlagWeak) != 0, at + 4));
                    uint next = BitConverter.ToUInt32(elf, at + 12);
                    if (next == 0) break;
                    aux += next;
                }
                uint nextEntry = BitConverter.ToUInt32(elf, entry + 12);
                if (nextEntry == 0) break;
                vn += nextEntry;
            }
        }
        return needs;
    }

    /// <summary>True when the library requires <paramref name="version"/> and the requirement is not weak.</summary>
    public static bool RequiresStrictly(byte[] elf, string file, string version) =>
        Read(elf, file).Any(n => n.Version == version && !n.Weak);

    /// <summary>Marks every requirement of <paramref name="version"/> weak, in place; returns how many flags changed.</summary>
    public static int MarkWeak(byte[] elf, string file, string version)
    {
        int changed = 0;
        foreach (var need in Read(elf, file).Where(n => n.Version == version && !n.Weak))
        {
            elf[need.FlagsOffset] |= (byte)VerFlagWeak;
            changed++;
        }
        return changed;
    }

    private static int Checked(long offset, int length, byte[] elf, string file) =>
        offset >= 0 && offset + length <= elf.Length
            ? (int)offset
            : throw new InvalidDataException($"{file}: ELF offset {offset} (+{length} bytes) is outside the file ({elf.Length} bytes)");
}
