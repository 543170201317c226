using System.Text;
using System.Text.Json;
using Plotly.NET;

namespace FineTune.Kit.Explain;

/// <summary>
/// An explanation of one value f(x): one number per feature, the value with no features (the baseline) and with all
/// of them, how it was computed and what it cost.
/// </summary>
public sealed class Attribution
{
    /// <summary>Creates a result; <paramref name="values"/> has one entry per feature.</summary>
    public Attribution(string method, IReadOnlyList<string> features, double[] values, double baseValue, double fullValue)
    {
        if (features.Count != values.Length)
            throw new KitException($"{features.Count} features but {values.Length} attribution values.");
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
    /// keys are target, evaluations, samples and the diagnostics. Non-finite numbers are written as null.
    /// </summary>
    public string ToJson(bool indented = false)
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

    /// <summary>Bar chart of the attributions in feature order, red for positive, blue for negative.</summary>
    public GenericChart Chart() => AttributionCharts.Bars(this);

    /// <summary>The token heatmap with its baseline → f(x) bar, as an HTML fragment.</summary>
    public string ToHtml() => TokenHeatmap.Html(this);

    /// <summary>Writes a standalone page with the heatmap and the bar chart.</summary>
    public void SaveHtml(string path, string? title = null) =>
        new Plots.HtmlPage(title ?? $"{Method} attributions").Raw(ToHtml()).Chart(Chart()).Save(path);

    private static void WriteNumber(Utf8JsonWriter w, double v)
    {
        if (double.IsFinite(v)) w.WriteNumberValue(v); else w.WriteNullValue();
    }
}
