using System.Text;

namespace FineTune.Kit.Io;

/// <summary>Writes files so that a reader sees either the old file or the whole new one, never half of it.</summary>
public static class AtomicFile
{
    /// <summary>Writes through a temporary file in the same folder, flushes it to disk, then renames it over the target.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>Writes text as UTF-8 without a byte-order mark, atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, s => { var b = new UTF8Encoding(false).GetBytes(text); s.Write(b, 0, b.Length); });

    /// <summary>Writes bytes atomically.</summary>
    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, s => s.Write(bytes, 0, bytes.Length));

    /// <summary>
    /// Builds a whole folder (a model, an adapter, a checkpoint) in a temporary sibling and renames it into place,
    /// replacing any previous version only once the new one is complete. What else the old folder held (a training
    /// run's checkpoints/ and history.json, a user's notes) is moved into the new one, so saving into a folder never
    /// deletes anything but the previous artefact's own files (see <see cref="IsArtefactFile"/>).
    /// </summary>
    public static void WriteDirectory(string path, Action<string> fill)
    {
        var full = Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar);
        var parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        RecoverStale(full);
        var tmp = Path.Combine(parent, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        var old = tmp + ".old";
        Directory.CreateDirectory(tmp);
        try
        {
            fill(tmp);
            if (Directory.Exists(full)) Directory.Move(full, old);
            Directory.Move(tmp, full);
            if (Directory.Exists(old))
            {
                // until this loop ends, anything not yet moved back is still in the .old folder, never lost
                foreach (var entry in Directory.EnumerateFileSystemEntries(old))
                {
                    var name = Path.GetFileName(entry);
                    var target = Path.Combine(full, name);
                    if (File.Exists(target) || Directory.Exists(target)) continue;      // replaced by the new version
                    if (File.Exists(entry) && IsArtefactFile(name)) continue;            // a stale weight, config or tokenizer file
                    if (Directory.Exists(entry)) Directory.Move(entry, target);
                    else File.Move(entry, target);
                }
                Directory.Delete(old, recursive: true);
            }
        }
        finally
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        }
    }

    /// <summary>
    /// Tidies what an earlier write of <paramref name="full"/> left when its process died (kill -9, power loss): a
    /// half-built temporary folder is deleted, and a previous version parked as ".old" goes back where it was, or, when
    /// the new version is already in place, hands back what it still held (checkpoints, notes) before it is deleted.
    /// Folders of a process that is still running are left alone.
    /// </summary>
    private static void RecoverStale(string full)
    {
        var parent = Path.GetDirectoryName(full)!;
        var prefix = $".{Path.GetFileName(full)}.";
        foreach (var dir in Directory.EnumerateDirectories(parent, prefix + "*.tmp*"))
        {
            var rest = Path.GetFileName(dir)[prefix.Length..];
            bool isOld = rest.EndsWith(".tmp.old", StringComparison.Ordinal);
            var id = rest[..^(isOld ? ".tmp.old".Length : ".tmp".Length)].Split('.');
            // ".{name}.{pid}.{guid}.tmp" since temporary folders carry the writer's process id; ".{name}.{guid}.tmp" before
            if (!(id.Length == 2 && IsGuid(id[1]) && int.TryParse(id[0], out var pid) && !IsRunning(pid)) && !(id.Length == 1 && IsGuid(id[0])))
                continue;
            if (!isOld) { Directory.Delete(dir, recursive: true); continue; }
            if (!Directory.Exists(full)) { Directory.Move(dir, full); continue; }
            foreach (var entry in Directory.EnumerateFileSystemEntries(dir))
            {
                var target = Path.Combine(full, Path.GetFileName(entry));
                if (File.Exists(target) || Directory.Exists(target) || (File.Exists(entry) && IsArtefactFile(Path.GetFileName(entry)))) continue;
                if (Directory.Exists(entry)) Directory.Move(entry, target);
                else File.Move(entry, target);
            }
            Directory.Delete(dir, recursive: true);
        }
    }

    private static bool IsGuid(string s) => s.Length == 32 && Guid.TryParseExact(s, "N", out _);

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>
    /// Files that belong to a saved model or adapter (weights, shard index, configs, tokenizer, model card): a new
    /// version of the folder drops stale ones, so that a single-file model does not sit next to the shards of the last.
    /// </summary>
    public static bool IsArtefactFile(string name) =>
        name.EndsWith(".safetensors", StringComparison.Ordinal) || name.EndsWith(".safetensors.index.json", StringComparison.Ordinal) ||
        name.EndsWith(".bin", StringComparison.Ordinal) || name is "config.json" or "generation_config.json" or "adapter_config.json"
            or "tokenizer.json" or "tokenizer_config.json" or "tokenizer.model" or "special_tokens_map.json" or "vocab.json"
            or "merges.txt" or "prompt.json" or "README.md";
}
