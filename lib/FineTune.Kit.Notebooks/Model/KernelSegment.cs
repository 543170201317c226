namespace FineTune.Kit.Notebooks.Model;

/// <summary>
/// A run of lines of one cell that belong to one kernel. Polyglot Notebooks let a `#!pwsh`-style line switch the
/// kernel for the lines after it, so one cell may hold several segments.
/// </summary>
/// <param name="Kernel">Canonical kernel name.</param>
/// <param name="FirstLine">Index (0-based) in the cell of the segment's first line, after its `#!` line if any.</param>
/// <param name="Lines">The segment's lines, without line ends.</param>
public sealed record KernelSegment(string Kernel, int FirstLine, IReadOnlyList<string> Lines)
{
    /// <summary>True when the segment holds nothing but white space.</summary>
    public bool IsBlank => Lines.All(string.IsNullOrWhiteSpace);

    /// <summary>Splits a cell's source at its kernel-switching `#!name` lines; other `#!` lines (magics) stay in place.</summary>
    public static IReadOnlyList<KernelSegment> Split(string source, string cellKernel)
    {
        var lines = source.Replace("\r\n", "\n").Split('\n');
        var segments = new List<KernelSegment>();
        var kernel = Kernels.Normalize(cellKernel);
        int first = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            if (!IsKernelSwitch(lines[i], out var next)) continue;
            segments.Add(new KernelSegment(kernel, first, lines[first..i]));
            kernel = next;
            first = i + 1;
        }
        segments.Add(new KernelSegment(kernel, first, lines[first..]));
        return segments.Where(s => !s.IsBlank).ToList();
    }

    private static bool IsKernelSwitch(string line, out string kernel)
    {
        kernel = "";
        var trimmed = line.Trim();
        if (!trimmed.StartsWith("#!", StringComparison.Ordinal)) return false;
        var name = trimmed[2..].Split(' ', '\t')[0];
        if (!Kernels.IsKernelName(name)) return false;
        kernel = Kernels.Normalize(name);
        return true;
    }
}
