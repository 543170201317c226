using System.Text.RegularExpressions;

namespace FineTune.Kit.Data;

/// <summary>
/// A dataset folder laid out as the Hugging Face Hub ships them, keyed by split. Recognised layouts:
/// <c>data/train-00000-of-00002.parquet</c> (shards concatenated in shard order), <c>train.jsonl</c> /
/// <c>validation.jsonl</c> / <c>test.parquet</c> at the top, config sub-folders (<c>&lt;config&gt;/train-*.parquet</c>)
/// and the Hub's Parquet conversion (<c>&lt;config&gt;/&lt;split&gt;/0000.parquet</c>). The split name comes from
/// the file name (the part before <c>-NNNNN-of-NNNNN</c>, or a known split word such as <c>train</c>,
/// <c>validation</c>, <c>test</c>), or from the folder when the file name is only a shard number.
/// Files are read when a split is first asked for; <see cref="Stream"/> reads without holding the split.
/// </summary>
public sealed class DatasetDict
{
    private static readonly string[] DataExtensions = [".parquet", ".jsonl", ".csv", ".tsv"];

    private static readonly HashSet<string> SplitWords = new(StringComparer.OrdinalIgnoreCase)
        { "train", "training", "validation", "valid", "val", "dev", "eval", "evaluation", "test", "testing" };

    // train-00000-of-00004, test-00001, train_3 (Hub shards) or a bare split word
    private static readonly Regex ShardName = new(@"^(?<split>.+?)-(?<shard>\d+)-of-\d+$", RegexOptions.CultureInvariant);
    private static readonly Regex NumberedName = new(@"^(?<split>.+?)[-_](?<shard>\d+)$", RegexOptions.CultureInvariant);

    private readonly Dictionary<string, IReadOnlyList<string>> _files;
    private readonly Dictionary<string, Dataset> _loaded = [];
    private readonly OnError _onError;

    private DatasetDict(string directory, string config, IReadOnlyList<string> configs, Dictionary<string, IReadOnlyList<string>> files, OnError onError)
    {
        Directory = directory;
        Config = config;
        Configs = configs;
        _files = files;
        _onError = onError;
    }

    /// <summary>The folder.</summary>
    public string Directory { get; }

    /// <summary>The configuration read (<c>default</c> when the folder has no config sub-folders).</summary>
    public string Config { get; }

    /// <summary>Every configuration the folder holds.</summary>
    public IReadOnlyList<string> Configs { get; }

    /// <summary>The split names, in the order train, validation, test, then others alphabetically.</summary>
    public IReadOnlyList<string> Splits => _files.Keys.OrderBy(SplitOrder).ThenBy(s => s, StringComparer.Ordinal).ToList();

    /// <summary>True when the folder has this split.</summary>
    public bool Contains(string split) => _files.ContainsKey(split);

    /// <summary>The files of one split, in the order their rows are concatenated.</summary>
    public IReadOnlyList<string> Files(string split) => _files.TryGetValue(split, out var f) ? f : throw Missing(split);

    /// <summary>
    /// One split, loaded on first use. A split of one file keeps that file's line (or row) numbers; rows of a sharded
    /// split are numbered 1, 2, … across its shards in order.
    /// </summary>
    public Dataset this[string split]
    {
        get
        {
            if (_loaded.TryGetValue(split, out var d)) return d;
            var invalid = new List<InvalidRow>();
            var rows = Stream(split, invalid.Add).ToList();
            var files = Files(split);
            return _loaded[split] = new Dataset(rows, invalid, files.Count == 1 ? files[0] : Describe(split));
        }
    }

    /// <summary>Streams the rows of one split file by file, never holding more than the readers do (see <see cref="Dataset.Stream"/>).</summary>
    public IEnumerable<Example> Stream(string split, Action<InvalidRow>? invalid = null)
    {
        var files = Files(split);
        if (files.Count == 1)
        {
            foreach (var e in Dataset.Stream(files[0], _onError, invalid)) yield return e;
            yield break;
        }
        int row = 0;
        foreach (var file in files)
            foreach (var e in Dataset.Stream(file, _onError, invalid))
                yield return new Example(e.Fields, ++row);
    }

    /// <summary>
    /// Reads the layout of a Hugging Face dataset folder (no rows are read yet). With several configurations,
    /// <paramref name="config"/> chooses one (<c>default</c> is chosen when present); a folder with no recognisable
    /// data files is refused with a list of what it holds.
    /// </summary>
    public static DatasetDict FromFolder(string directory, string? config = null, OnError onError = OnError.Fail)
    {
        if (!System.IO.Directory.Exists(directory)) throw new DirectoryNotFoundException($"{directory}: folder not found");
        var found = new List<(string Config, string Split, int Shard, string File)>();
        var seen = new List<string>();
        foreach (var file in System.IO.Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(directory, file).Replace('\\', '/');
            if (relative.Split('/').Any(p => p.StartsWith('.'))) continue; // .git, .cache, .gitattributes
            seen.Add(relative);
            if (!DataExtensions.Contains(Path.GetExtension(file).ToLowerInvariant())) continue;
            if (Recognise(relative) is { } r) found.Add((r.Config, r.Split, r.Shard, file));
        }
        if (found.Count == 0)
        {
            var listing = seen.Count == 0 ? "it is empty" : "it holds " + string.Join(", ", seen.Take(20)) + (seen.Count > 20 ? $", … ({seen.Count} files)" : "");
            throw new DataFormatException($"{directory}: no dataset files recognised (expected e.g. data/train-00000-of-00001.parquet, " +
                                          $"train.jsonl, validation.jsonl or <config>/train-*.parquet); {listing}");
        }
        var configs = found.Select(f => f.Config).Distinct().Order(StringComparer.Ordinal).ToList();
        var chosen = config
            ?? (configs.Count == 1 ? configs[0] : configs.Contains("default") ? "default"
                : throw new DataFormatException($"{directory}: holds several configurations ({string.Join(", ", configs)}); choose one, or give its folder ({Path.Combine(directory, configs[0])})"));
        if (!configs.Contains(chosen))
            throw new DataFormatException($"{directory}: has no configuration '{chosen}'; it has {string.Join(", ", configs)}");
        var files = found.Where(f => f.Config == chosen).GroupBy(f => f.Split)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.OrderBy(f => f.Shard).ThenBy(f => f.File, StringComparer.Ordinal).Select(f => f.File).ToList());
        return new DatasetDict(directory, chosen, configs, files, onError);
    }

    // config/split/shard of one data file, or null when its name follows no split convention
    private static (string Config, string Split, int Shard)? Recognise(string relative)
    {
        var parts = relative.Split('/').ToList();
        var stem = Path.GetFileNameWithoutExtension(parts[^1]);
        parts.RemoveAt(parts.Count - 1);
        if (parts.Count > 0 && parts[0] == "data") parts.RemoveAt(0);
        string? split = null;
        int shard = 0;
        if (ShardName.Match(stem) is { Success: true } m)
        {
            split = m.Groups["split"].Value;
            shard = int.Parse(m.Groups["shard"].Value, System.Globalization.CultureInfo.InvariantCulture);
        }
        else if (SplitWords.Contains(stem)) split = stem;
        else if (NumberedName.Match(stem) is { Success: true } n && SplitWords.Contains(n.Groups["split"].Value))
        {
            split = n.Groups["split"].Value;
            shard = int.Parse(n.Groups["shard"].Value, System.Globalization.CultureInfo.InvariantCulture);
        }
        else if (stem.All(char.IsAsciiDigit) && stem.Length > 0 && parts.Count > 0)
        {
            // the Hub's Parquet conversion: <config>/<split>/0000.parquet
            split = parts[^1];
            shard = int.Parse(stem, System.Globalization.CultureInfo.InvariantCulture);
            parts.RemoveAt(parts.Count - 1);
        }
        if (split is null) return null;
        return (parts.Count == 0 ? "default" : string.Join('/', parts), split, shard);
    }

    private static int SplitOrder(string split) => split.ToLowerInvariant() switch
    {
        "train" or "training" => 0,
        "validation" or "valid" or "val" or "dev" or "eval" or "evaluation" => 1,
        "test" or "testing" => 2,
        _ => 3,
    };

    private string Describe(string split)
    {
        var files = Files(split);
        return $"{Path.Combine(Directory, Path.GetDirectoryName(Path.GetRelativePath(Directory, files[0])) ?? "")}/{split} ({files.Count} shards, rows numbered across them)";
    }

    private DataFormatException Missing(string split) =>
        new($"{Directory}: has no split '{split}'" + (Config == "default" ? "" : $" in configuration '{Config}'") + $"; it has {string.Join(", ", Splits)}");

    /// <inheritdoc/>
    public override string ToString() =>
        $"DatasetDict({Config}: {string.Join(", ", Splits.Select(s => $"{s} [{Files(s).Count} file{(Files(s).Count == 1 ? "" : "s")}]"))})";
}
