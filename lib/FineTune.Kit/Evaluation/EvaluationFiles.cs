using System.Globalization;
using System.Text;
using System.Text.Json;
using FineTune.Kit.Data;
using FineTune.Kit.Prompting;

namespace FineTune.Kit.Evaluation;

/// <summary>
/// JSON Lines files of test sets and predictions, so that approaches can be run once (on a GPU box, by an API) and
/// compared later. A test line is <c>{"text": "...", "label": "...", ...}</c> — other string or number fields become
/// slicing columns. A prediction line is <c>{"label": "...", "probabilities": {"a": 0.9, ...}, "prompt_tokens": 412,
/// "latency_ms": 38.5}</c>, one per test example in the same order; only "label" is required.
/// </summary>
public static class EvaluationFiles
{
    /// <summary>Reads a labelled test set.</summary>
    public static IReadOnlyList<LabeledExample> ReadTestSet(string path, string textField = "text", string labelField = "label")
    {
        var examples = new List<LabeledExample>();
        foreach (var (line, root) in Lines(path))
        {
            var text = RequiredString(root, textField, path, line);
            var label = RequiredString(root, labelField, path, line);
            var columns = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in root.EnumerateObject())
                if (p.Name != textField && p.Name != labelField && p.Value.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
                    columns[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            examples.Add(new LabeledExample(text, label, columns.Count == 0 ? null : columns));
        }
        if (examples.Count == 0) throw new DataFormatException($"{path}: the test set is empty");
        return examples;
    }

    /// <summary>Reads predictions, one line per test example.</summary>
    public static IReadOnlyList<ClassifierOutput> ReadPredictions(string path)
    {
        var outputs = new List<ClassifierOutput>();
        foreach (var (line, root) in Lines(path))
        {
            var label = RequiredString(root, "label", path, line);
            var probabilities = new Dictionary<string, double>(StringComparer.Ordinal);
            if (root.TryGetProperty("probabilities", out var probs) && probs.ValueKind != JsonValueKind.Null)
            {
                if (probs.ValueKind != JsonValueKind.Object)
                    throw new DataFormatException($"{path}:{line}: 'probabilities' must be an object of label → probability");
                foreach (var p in probs.EnumerateObject())
                {
                    if (p.Value.ValueKind != JsonValueKind.Number || p.Value.GetDouble() is < 0 or > 1)
                        throw new DataFormatException($"{path}:{line}: probability of '{p.Name}' must be a number in [0, 1], got {p.Value.GetRawText()}");
                    probabilities[p.Name] = p.Value.GetDouble();
                }
            }
            var tokens = 0;
            if (root.TryGetProperty("prompt_tokens", out var t) && t.ValueKind != JsonValueKind.Null)
                if (t.ValueKind != JsonValueKind.Number || !t.TryGetInt32(out tokens) || tokens < 0)
                    throw new DataFormatException($"{path}:{line}: 'prompt_tokens' must be a non-negative integer, got {t.GetRawText()}");
            TimeSpan? latency = null;
            if (root.TryGetProperty("latency_ms", out var l) && l.ValueKind != JsonValueKind.Null)
            {
                if (l.ValueKind != JsonValueKind.Number || l.GetDouble() < 0)
                    throw new DataFormatException($"{path}:{line}: 'latency_ms' must be a non-negative number, got {l.GetRawText()}");
                latency = TimeSpan.FromMilliseconds(l.GetDouble());
            }
            outputs.Add(new ClassifierOutput(label, probabilities, tokens, latency));
        }
        return outputs;
    }

    /// <summary>Writes predictions in the format <see cref="ReadPredictions"/> reads (atomically).</summary>
    public static void WritePredictions(string path, IEnumerable<ClassifierOutput> outputs)
    {
        var sb = new StringBuilder();
        foreach (var o in outputs)
        {
            using var stream = new MemoryStream();
            using (var w = new Utf8JsonWriter(stream))
            {
                w.WriteStartObject();
                w.WriteString("label", o.Label);
                if (o.Probabilities.Count > 0)
                {
                    w.WriteStartObject("probabilities");
                    foreach (var (k, v) in o.Probabilities) w.WriteNumber(k, v);
                    w.WriteEndObject();
                }
                w.WriteNumber("prompt_tokens", o.PromptTokens);
                if (o.Latency is { } lat) w.WriteNumber("latency_ms", lat.TotalMilliseconds);
                w.WriteEndObject();
            }
            sb.Append(Encoding.UTF8.GetString(stream.ToArray())).Append('\n');
        }
        Io.AtomicFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>
    /// Reads a training history: JSON Lines with "step", "train_loss" and optional "val_loss" (null or absent at steps
    /// without validation), or, for a .csv path, a header row naming those columns and an empty cell for no validation.
    /// </summary>
    public static IReadOnlyList<TrainingRecord> ReadTrainingHistory(string path)
    {
        var records = path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? ReadHistoryCsv(path) : ReadHistoryJsonl(path);
        if (records.Count == 0) throw new DataFormatException($"{path}: the training history is empty");
        return records;
    }

    private static List<TrainingRecord> ReadHistoryJsonl(string path)
    {
        var records = new List<TrainingRecord>();
        foreach (var (line, root) in Lines(path))
        {
            double? Number(string field, bool required)
            {
                if (!root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
                    return required ? throw new DataFormatException($"{path}:{line}: missing field '{field}'") : null;
                return v.ValueKind == JsonValueKind.Number
                    ? v.GetDouble()
                    : throw new DataFormatException($"{path}:{line}: field '{field}' must be a number, got {v.GetRawText()}");
            }
            var step = Number("step", true)!.Value;
            if (step != Math.Floor(step)) throw new DataFormatException($"{path}:{line}: 'step' must be an integer, got {step}");
            records.Add(new TrainingRecord((int)step, Number("train_loss", true)!.Value, Number("val_loss", false)));
        }
        return records;
    }

    private static List<TrainingRecord> ReadHistoryCsv(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        using var reader = new StreamReader(path);
        var header = reader.ReadLine()?.Split(',').Select(h => h.Trim()).ToList()
            ?? throw new DataFormatException($"{path}: empty file, expected a header row");
        int Column(string name, bool required)
        {
            var i = header.IndexOf(name);
            return i < 0 && required ? throw new DataFormatException($"{path}:1: header has no '{name}' column ({string.Join(",", header)})") : i;
        }
        int stepCol = Column("step", true), trainCol = Column("train_loss", true), valCol = Column("val_loss", false);
        var records = new List<TrainingRecord>();
        var number = 1;
        for (var raw = reader.ReadLine(); raw is not null; raw = reader.ReadLine())
        {
            number++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            var cells = raw.Split(',').Select(c => c.Trim()).ToArray();
            if (cells.Length != header.Count)
                throw new DataFormatException($"{path}:{number}: {cells.Length} cells but the header has {header.Count}");
            double Parse(int col) => double.TryParse(cells[col], NumberStyles.Float, CultureInfo.InvariantCulture, out var x)
                ? x : throw new DataFormatException($"{path}:{number}: column '{header[col]}' is not a number: '{cells[col]}'");
            if (!int.TryParse(cells[stepCol], NumberStyles.Integer, CultureInfo.InvariantCulture, out var step))
                throw new DataFormatException($"{path}:{number}: column 'step' is not an integer: '{cells[stepCol]}'");
            double? val = valCol < 0 || cells[valCol].Length == 0 ? null : Parse(valCol);
            records.Add(new TrainingRecord(step, Parse(trainCol), val));
        }
        return records;
    }

    private static IEnumerable<(int Line, JsonElement Root)> Lines(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        var number = 0;
        foreach (var raw in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            JsonElement root;
            try
            {
                using var doc = JsonDocument.Parse(raw);
                root = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new DataFormatException($"{path}:{number}: not valid JSON ({e.Message})", e);
            }
            if (root.ValueKind != JsonValueKind.Object) throw new DataFormatException($"{path}:{number}: expected a JSON object per line");
            yield return (number, root);
        }
    }

    private static string RequiredString(JsonElement root, string field, string path, int line)
    {
        if (!root.TryGetProperty(field, out var v)) throw new DataFormatException($"{path}:{line}: missing field '{field}'");
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString()!,
            JsonValueKind.Number => v.GetRawText(), // numeric class ids are common
            _ => throw new DataFormatException($"{path}:{line}: field '{field}' must be a string, got {v.ValueKind.ToString().ToLower(CultureInfo.InvariantCulture)}"),
        };
    }
}
