using System.Text;
using System.Text.Json;
using FineTune.Kit.Plots;
using Plotly.NET;

namespace FineTune.Kit.Explain;

/// <summary>
/// An explanation of one value f(x): one number per feature, the value with no features (the baseline) and with all
/// of them, how it was computed and what it cost.
/// </summary>
public sealed class Attribution : IReport
{
    /// <summary>Creates a result; <paramref name="values"/> has one entry per feature.</summary>
    public Attribution(string method, IReadOnlyList<string> features, double[] values, double baseValue, double fullValue)
    {
        if (features.Count != values.Length)
            throw new ArgumentException($"{features.Count} features but {values.Length} attribution values.");
        Method = method;
        Features = features;
        Values = values;
        BaseValue = baseValue;
        FullValue = fullValue;
    }

    /// <summary>The method that produced the values (e.g. "kernel_shap").</summary>
    public string Method { get; }

    /// <summary>Display text of each feature.</summary>
    public IReadOnlyList<string> Features { get; }

    /// <summary>One attribution per feature.</summary>
    public double[] Values { get; }

    /// <summary>f at the baseline (no feature present).</summary>
    public double BaseValue { get; }

    /// <summary>f at the input (every feature present).</summary>
    public double FullValue { get; }

    /// <summary>What f measures, e.g. "log p(' positive' | text)"; free text for titles.</summary>
    public string Target { get; init; } = "";

    /// <summary>Calls of f on distinct inputs (coalitions, or interpolation points for gradients).</summary>
    public int Evaluations { get; init; }

    /// <summary>Rows the estimator used (regression rows, windows, integration points).</summary>
    public int Samples { get; init; }

    /// <summary>Method-specific diagnostics (fidelity, completeness gap, intercept, ...), written into the JSON too.</summary>
    public IReadOnlyDictionary<string, double> Diagnostics { get; init; } = new Dictionary<string, double>();

    /// <summary>How absent features were realised (e.g. the token that replaced them); written into the JSON as "masking".</summary>
    public string? Masking { get; set; }

    /// <summary>The features the values came from, when known (lets the heatmap reproduce the original spacing).</summary>
    public FeatureSet? Source { get; init; }

    /// <summary>Sum of the attributions.</summary>
    public double Sum => Values.Sum();

    /// <summary>Sum of attributions minus (f(x) − f(baseline)); zero for methods with the efficiency property.</summary>
    public double EfficiencyGap => Sum - (FullValue - BaseValue);

    /// <summary>The k features with the largest absolute attribution, largest first.</summary>
    public IReadOnlyList<(string Feature, double Value)> Top(int k) =>
        Enumerable.Range(0, Values.Length).OrderByDescending(i => Math.Abs(Values[i])).ThenBy(i => i)
            .Take(k).Select(i => (Features[i], Values[i])).ToArray();

    /// <summary>
    /// <c>{"tokens": [...], "attributions": [...], "base_value": .., "full_value": .., "method": "..", ...}</c>; the extra
    /// keys are target, evaluations, samples and the diagnostics. Non-finite numbers are written as null. Indented;
    /// <see cref="ToJsonLine"/> writes the same document on one line.
    /// </summary>
    public string ToJson() => ToJson(indented: true);

    /// <summary>The document of <see cref="ToJson"/> on one line (for JSON Lines files of many attributions).</summary>
    public string ToJsonLine() => ToJson(indented: false);

    private string ToJson(bool indented)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented }))
        {
            w.WriteStartObject();
            w.WriteStartArray("tokens");
            foreach (var f in Features) w.WriteStringValue(f);
            w.WriteEndArray();
            w.WriteStartArray("attributions");
            foreach (var v in Values) WriteNumber(w, v);
            w.WriteEndArray();
            w.WritePropertyName("base_value"); WriteNumber(w, BaseValue);
            w.WritePropertyName("full_value"); WriteNumber(w, FullValue);
            w.WriteString("method", Method);
            if (Target.Length > 0) w.WriteString("target", Target);
            if (Masking is not null) w.WriteString("masking", Masking);
            w.WriteNumber("evaluations", Evaluations);
            w.WriteNumber("samples", Samples);
            foreach (var (key, value) in Diagnostics.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.WritePropertyName(key);
                WriteNumber(w, value);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>
    /// Reads the JSON written by <see cref="ToJson"/> (or by another tool using the same keys): tokens, attributions,
    /// base_value, full_value and method are required; target, evaluations and samples are read when present and every
    /// other numeric key becomes a diagnostic. <paramref name="source"/> names the input in error messages.
    /// </summary>
    public static Attribution FromJson(string json, string source = "attribution JSON")
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new DataFormatException($"{source}: not valid JSON ({e.Message}).", e); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new DataFormatException($"{source}: expected a JSON object.");
            JsonElement Required(string key) => root.TryGetProperty(key, out var v) ? v
                : throw new DataFormatException($"{source}: missing key \"{key}\".");
            double Number(JsonElement e, string what) => e.ValueKind switch
            {
                JsonValueKind.Number => e.GetDouble(),
                JsonValueKind.Null => double.NaN,
                _ => throw new DataFormatException($"{source}: {what} must be a number, got {e.ValueKind}."),
            };
            var tokens = Required("tokens");
            var values = Required("attributions");
            if (tokens.ValueKind != JsonValueKind.Array || values.ValueKind != JsonValueKind.Array)
                throw new DataFormatException($"{source}: \"tokens\" and \"attributions\" must be arrays.");
            var names = tokens.EnumerateArray().Select((t, i) => t.ValueKind == JsonValueKind.String ? t.GetString()!
                : throw new DataFormatException($"{source}: tokens[{i}] must be a string.")).ToArray();
            var numbers = values.EnumerateArray().Select((v, i) => Number(v, $"attributions[{i}]")).ToArray();
            if (names.Length != numbers.Length)
                throw new DataFormatException($"{source}: {names.Length} tokens but {numbers.Length} attributions.");
            var method = Required("method");
            var diagnostics = new Dictionary<string, double>();
            string target = "";
            int evaluations = 0, samples = 0;
            foreach (var p in root.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "tokens" or "attributions" or "base_value" or "full_value" or "method": break;
                    case "target": target = p.Value.GetString() ?? ""; break;
                    case "evaluations": evaluations = (int)Number(p.Value, "evaluations"); break;
                    case "samples": samples = (int)Number(p.Value, "samples"); break;
                    default:
                        if (p.Value.ValueKind is JsonValueKind.Number or JsonValueKind.Null) diagnostics[p.Name] = Number(p.Value, p.Name);
                        break;
                }
            }
            return new Attribution(method.GetString() ?? "", names, numbers,
                Number(Required("base_value"), "base_value"), Number(Required("full_value"), "full_value"))
            {
                Target = target,
                Evaluations = evaluations,
                Samples = samples,
                Diagnostics = diagnostics,
            };
        }
    }

    /// <summary>Bar chart of the attributions in feature order, red for positive, blue for negative.</summary>
    public GenericChart Chart() => AttributionCharts.Bars(this);

    /// <summary>The bar chart of the attributions (the page's only chart).</summary>
    public IReadOnlyList<GenericChart> Charts() => [Chart()];

    /// <summary>
    /// A standalone page: the token heatmap with its baseline → f(x) bar (<see cref="TokenHeatmap.Html"/> gives that
    /// part alone, as a fragment), then the bar chart.
    /// </summary>
    public string ToHtml() => new HtmlPage(Target.Length > 0 ? $"{Method} attributions of {Target}" : $"{Method} attributions")
        .Raw(TokenHeatmap.Html(this)).Chart(Chart()).ToHtml();

    /// <summary>Writes report.html and report.json into <paramref name="directory"/> (see <see cref="ReportFolder"/>).</summary>
    public void Save(string directory) => ReportFolder.Write(this, directory);

    private static void WriteNumber(Utf8JsonWriter w, double v)
    {
        if (double.IsFinite(v)) w.WriteNumberValue(v); else w.WriteNullValue();
    }
}
