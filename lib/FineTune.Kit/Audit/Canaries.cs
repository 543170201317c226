using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Data;

namespace FineTune.Kit.Audit;

/// <summary>
/// How canaries look: a fixed <see cref="Prefix"/> followed by <see cref="Length"/> random symbols from
/// <see cref="Alphabet"/> joined by <see cref="Separator"/>, as in "my code is 4 8 1 5 9 2". Every secret of the format
/// is equally likely, so a model that never saw a canary ranks it like any other candidate.
/// </summary>
/// <param name="Prefix">The text before the secret (the context the model is asked to complete).</param>
/// <param name="Length">Symbols in a secret (at least 1).</param>
/// <param name="Alphabet">The symbols, each one character, all different (at least 2).</param>
/// <param name="Separator">Text between two symbols.</param>
public sealed record CanaryFormat(string Prefix = "my code is", int Length = 6, string Alphabet = "0123456789", string Separator = " ")
{
    /// <summary>Throws an <see cref="ArgumentException"/> naming the first setting that cannot make canaries.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Prefix)) throw new ArgumentException("Prefix must be some text, e.g. \"my code is\"", nameof(Prefix));
        if (Length < 1) throw new ArgumentException($"Length must be at least 1 symbol, got {Length}", nameof(Length));
        if (Alphabet is null || Alphabet.Length < 2 || Alphabet.Distinct().Count() != Alphabet.Length)
            throw new ArgumentException($"Alphabet must hold at least 2 different characters, got \"{Alphabet}\"", nameof(Alphabet));
        ArgumentNullException.ThrowIfNull(Separator, nameof(Separator));
    }

    /// <summary>log2 of the number of possible secrets (Length · log2 |Alphabet|).</summary>
    public double Log2SpaceSize => Length * Math.Log2(Alphabet.Length);

    /// <summary>The canary of a secret given as symbol indices.</summary>
    public Canary Make(IReadOnlyList<int> symbols)
    {
        if (symbols.Count != Length) throw new ArgumentException($"a secret of this format has {Length} symbols, got {symbols.Count}", nameof(symbols));
        var secret = string.Join(Separator, symbols.Select(s => Alphabet[s].ToString()));
        return new Canary(Prefix, secret);
    }

    /// <summary>A uniformly random secret.</summary>
    public Canary Random(Random rng) => Make(Enumerable.Range(0, Length).Select(_ => rng.Next(Alphabet.Length)).ToArray());
}

/// <summary>One planted secret: <see cref="Text"/> = prefix, a space, secret.</summary>
/// <param name="Prefix">The context before the secret.</param>
/// <param name="Secret">The random part.</param>
public sealed record Canary(string Prefix, string Secret)
{
    /// <summary>The sentence that goes into the training data.</summary>
    public string Text => $"{Prefix} {Secret}";
}

/// <summary>
/// Canaries for a "secret sharer" test: <see cref="Inserted"/> go into the training data, <see cref="Controls"/> of
/// the same format are kept out, so the exposure of a secret the model never saw is measured beside the planted ones.
/// Saved as JSON beside the data so that the test can run after training.
/// </summary>
public sealed class CanarySet
{
    /// <summary>Builds a set from its parts; the secrets must all differ and follow <paramref name="format"/>'s prefix.</summary>
    public CanarySet(CanaryFormat format, IReadOnlyList<Canary> inserted, IReadOnlyList<Canary> controls, int repeats)
    {
        ArgumentNullException.ThrowIfNull(format);
        format.Validate();
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), repeats, "repeats must be at least 1 (copies of each inserted canary)");
        var all = inserted.Concat(controls).ToList();
        if (all.Select(c => c.Secret).Distinct().Count() != all.Count) throw new ArgumentException("two canaries share a secret");
        Format = format;
        Inserted = inserted;
        Controls = controls;
        Repeats = repeats;
    }

    /// <summary>The format of every canary.</summary>
    public CanaryFormat Format { get; }
    /// <summary>Canaries planted in the training data.</summary>
    public IReadOnlyList<Canary> Inserted { get; }
    /// <summary>Canaries of the same format kept out of the data (the control).</summary>
    public IReadOnlyList<Canary> Controls { get; }
    /// <summary>Copies of each inserted canary put into the data.</summary>
    public int Repeats { get; }

    /// <summary>
    /// <paramref name="inserted"/> + <paramref name="controls"/> distinct random secrets of <paramref name="format"/>
    /// (default "my code is" and six digits), the same for the same seed.
    /// </summary>
    public static CanarySet Create(int inserted, int controls, int seed = Seeds.Default, CanaryFormat? format = null, int repeats = 1)
    {
        format ??= new CanaryFormat();
        format.Validate();
        if (inserted < 1) throw new ArgumentOutOfRangeException(nameof(inserted), inserted, "inserted must be at least 1 canary");
        if (controls < 0) throw new ArgumentOutOfRangeException(nameof(controls), controls, "controls must be 0 or more");
        if (Math.Log2(inserted + controls) > format.Log2SpaceSize - 1)
            throw new ArgumentException($"{inserted + controls} canaries would fill half the {Math.Pow(2, format.Log2SpaceSize):N0} possible secrets; use longer secrets");
        var rng = new Random(seed);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var canaries = new List<Canary>();
        while (canaries.Count < inserted + controls)
            if (format.Random(rng) is var c && seen.Add(c.Secret)) canaries.Add(c);
        return new CanarySet(format, canaries[..inserted], canaries[inserted..], repeats);
    }

    /// <summary>
    /// Copies a JSON Lines data file to <paramref name="output"/> with <see cref="Repeats"/> copies of each inserted
    /// canary as new lines at seeded random places; every original line is kept byte for byte. Text rows get
    /// <c>{"text": canary}</c>, prompt/completion rows <c>{"prompt": prefix, "completion": " " + secret}</c>. Labelled
    /// text rows (a classifier's data) and chat rows are refused: a canary there would need a label or a conversation
    /// the data does not have. Returns the number of lines inserted.
    /// </summary>
    public int InsertInto(string input, string output, int seed = Seeds.Default)
    {
        var data = Dataset.FromJsonl(input);
        if (data.Count == 0) throw new DataFormatException($"{input}: the file has no rows to plant canaries among");
        Func<Canary, string> line = data.Shape switch
        {
            DatasetShape.Text when data.AsText().FirstOrDefault(r => !string.IsNullOrWhiteSpace(r.Label)) is { } labelled =>
                throw new DataFormatException($"{input}:{labelled.Line}: the rows carry a \"label\"; canaries go into text or prompt/completion data, " +
                                              "not a classifier's (they have no label)"),
            DatasetShape.Text => c => new JsonObject { ["text"] = c.Text }.ToJsonString(PrivacyStatistics.Compact),
            DatasetShape.PromptCompletion => c => new JsonObject { ["prompt"] = c.Prefix, ["completion"] = " " + c.Secret }.ToJsonString(PrivacyStatistics.Compact),
            var shape => throw new DataFormatException($"{input}:{data.Rows[0].Line}: canaries go into \"text\" or \"prompt\"/\"completion\" rows, not {shape} rows"),
        };
        var lines = File.ReadAllLines(input).Where(l => l.Trim().Length > 0).ToList();
        var rng = new Random(seed);
        var planted = 0;
        foreach (var canary in Inserted)
            for (var r = 0; r < Repeats; r++)
            {
                lines.Insert(rng.Next(lines.Count + 1), line(canary));
                planted++;
            }
        var sb = new StringBuilder();
        foreach (var l in lines) sb.Append(l).Append('\n');
        Io.AtomicFile.WriteAllText(output, sb.ToString());
        return planted;
    }

    /// <summary>The set as JSON: format, repeats, inserted and control canaries.</summary>
    public string ToJson() => new JsonObject
    {
        ["format"] = new JsonObject
        {
            ["prefix"] = Format.Prefix, ["length"] = Format.Length, ["alphabet"] = Format.Alphabet, ["separator"] = Format.Separator,
        },
        ["repeats"] = Repeats,
        ["inserted"] = new JsonArray(Inserted.Select(c => (JsonNode)c.Secret).ToArray()),
        ["controls"] = new JsonArray(Controls.Select(c => (JsonNode)c.Secret).ToArray()),
    }.ToJsonString(PrivacyStatistics.Indented);

    /// <summary>Writes <see cref="ToJson"/> atomically (keep it private: it holds the secrets).</summary>
    public void Save(string path) => Io.AtomicFile.WriteAllText(path, ToJson());

    /// <summary>Reads a set written by <see cref="Save"/>; a missing or wrong field is an error naming the file.</summary>
    public static CanarySet Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such canary file", path);
        try
        {
            var o = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new DataFormatException($"{path}: empty canary file");
            var f = o["format"]?.AsObject() ?? throw new DataFormatException($"{path}: missing \"format\"");
            var format = new CanaryFormat(Str(f, "prefix", path), f["length"]?.GetValue<int>() ?? throw Missing(path, "format.length"),
                Str(f, "alphabet", path), Str(f, "separator", path));
            try { format.Validate(); }
            catch (ArgumentException e) { throw new DataFormatException($"{path}: {e.Message}", e); }
            List<Canary> Read(string key) => (o[key]?.AsArray() ?? throw Missing(path, key))
                .Select(n => new Canary(format.Prefix, n?.GetValue<string>() ?? throw new DataFormatException($"{path}: a secret in \"{key}\" is null"))).ToList();
            return new CanarySet(format, Read("inserted"), Read("controls"), o["repeats"]?.GetValue<int>() ?? throw Missing(path, "repeats"));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new DataFormatException($"{path}: not a canary file: {e.Message}", e);
        }
    }

    private static string Str(JsonObject o, string key, string path) => o[key]?.GetValue<string>() ?? throw Missing(path, $"format.{key}");

    private static DataFormatException Missing(string path, string key) => new($"{path}: missing \"{key}\"");

    /// <summary>Counts of the set, for messages.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Inserted.Count} inserted canaries (×{Repeats}), {Controls.Count} controls, format \"{Format.Prefix} …\" ({Format.Length} symbols)");
}
