using Plotly.NET;
using static FineTune.Kit.Plots.PlotlyTraces;

namespace FineTune.Kit.Explain;

/// <summary>Plotly charts for attributions and attention.</summary>
public static class AttributionCharts
{
    private const string Positive = "#d62728";
    private const string Negative = "#1f77b4";

    /// <summary>Bar per feature in input order, red for positive and blue for negative, with exact values on hover.</summary>
    public static GenericChart Bars(Attribution a)
    {
        var bar = Trace("bar",
            ("x", UniqueLabels(a.Features)),
            ("y", a.Values),
            ("text", a.Values.Select(v => v.ToString("G4")).ToArray()),
            ("hovertemplate", "%{x}: %{y:.4g}<extra></extra>"),
            ("marker", Obj(("color", a.Values.Select(v => v >= 0 ? Positive : Negative).ToArray()))));
        var title = $"{a.Method}: base {a.BaseValue:G4} → f(x) {a.FullValue:G4}" + (a.Target.Length > 0 ? $" · {a.Target}" : "");
        return Chart([bar],
            ("title", Title(title)),
            ("showlegend", false),
            ("xaxis", Obj(("tickangle", -45), ("type", "category"))),
            ("yaxis", Obj(("title", Title("attribution")), ("zeroline", true))));
    }

    /// <summary>A [T][T] attention (or rollout) matrix as a heatmap: rows are queries, columns keys, labelled by token.</summary>
    public static GenericChart AttentionHeatmap(IReadOnlyList<IReadOnlyList<double>> matrix, IReadOnlyList<string> tokens,
        string title = "attention")
    {
        if (matrix.Count != tokens.Count || matrix.Any(r => r.Count != tokens.Count))
            throw new ArgumentException($"The matrix must be {tokens.Count} × {tokens.Count} to match the tokens.");
        var labels = UniqueLabels(tokens);
        var heat = Trace("heatmap",
            ("z", matrix.Select(r => r.ToArray()).ToArray()),
            ("x", labels),
            ("y", labels),
            ("colorscale", "Viridis"),
            ("hovertemplate", "query %{y} → key %{x}: %{z:.3f}<extra></extra>"));
        return Chart([heat],
            ("title", Title(title)),
            ("xaxis", Obj(("title", Title("key")), ("type", "category"), ("tickangle", -45))),
            ("yaxis", Obj(("title", Title("query")), ("type", "category"), ("autorange", "reversed"))));
    }

    /// <summary>One head of one layer as a heatmap.</summary>
    public static GenericChart AttentionHeatmap(float[][][][] attention, int layer, int head, IReadOnlyList<string> tokens)
    {
        var (layers, heads, _) = AttentionMaps.Shape(attention);
        if (layer < 0 || layer >= layers || head < 0 || head >= heads)
            throw new ArgumentException($"Layer {layer} head {head} is outside {layers} layers × {heads} heads.");
        return AttentionHeatmap(ToDouble(attention[layer][head]), tokens, $"layer {layer} head {head}");
    }

    /// <summary>Attention rollout as a heatmap.</summary>
    public static GenericChart RolloutHeatmap(float[][][][] attention, IReadOnlyList<string> tokens) =>
        AttentionHeatmap(AttentionMaps.Rollout(attention), tokens, "attention rollout");

    /// <summary>
    /// A layers × heads grid of small heatmaps, one per head (rows = layers, columns = heads); hover names the layer,
    /// head and tokens. For big models pass <paramref name="layers"/> to show a subset.
    /// </summary>
    public static GenericChart HeadGrid(float[][][][] attention, IReadOnlyList<string> tokens, IReadOnlyList<int>? layers = null)
    {
        var (nLayers, nHeads, nTokens) = AttentionMaps.Shape(attention);
        if (tokens.Count != nTokens) throw new ArgumentException($"{tokens.Count} token labels for {nTokens} attention positions.");
        var chosen = layers ?? Enumerable.Range(0, nLayers).ToArray();
        foreach (var l in chosen)
            if (l < 0 || l >= nLayers) throw new ArgumentException($"Layer {l} is out of range 0..{nLayers - 1}.");
        var labels = UniqueLabels(tokens);
        var traces = new List<Trace>();
        var layout = new List<(string, object?)>
        {
            ("title", Title("attention by layer (rows) and head (columns)")),
            ("grid", Obj(("rows", chosen.Count), ("columns", nHeads), ("pattern", "independent"),
                ("xgap", 0.08), ("ygap", 0.12))),
            ("width", Math.Max(500, 150 * nHeads)),
            ("height", Math.Max(350, 150 * chosen.Count)),
            ("showlegend", false),
        };
        int n = 0;
        foreach (var l in chosen)
            for (int h = 0; h < nHeads; h++)
            {
                n++;
                var suffix = n == 1 ? "" : n.ToString();
                traces.Add(Trace("heatmap",
                    ("z", ToDouble(attention[l][h])),
                    ("x", labels), ("y", labels),
                    ("colorscale", "Viridis"), ("zmin", 0.0), ("zmax", 1.0), ("showscale", false),
                    ("xaxis", "x" + suffix), ("yaxis", "y" + suffix),
                    ("name", $"L{l} H{h}"),
                    ("hovertemplate", $"L{l} H{h}<br>%{{y}} → %{{x}}: %{{z:.3f}}<extra></extra>")));
                layout.Add(("xaxis" + suffix, Obj(("showticklabels", false), ("type", "category"),
                    ("title", l == chosen[^1] ? Title($"H{h}") : null))));
                layout.Add(("yaxis" + suffix, Obj(("showticklabels", false), ("type", "category"), ("autorange", "reversed"),
                    ("title", h == 0 ? Title($"L{l}") : null))));
            }
        return Chart(traces, layout.ToArray());
    }

    /// <summary>One summary number per head as a layers × heads heatmap (e.g. entropy or first-token weight).</summary>
    public static GenericChart HeadSummaryHeatmap(HeadSummary[][] grid, Func<HeadSummary, double> pick, string title)
    {
        var heat = Trace("heatmap",
            ("z", grid.Select(row => row.Select(pick).ToArray()).ToArray()),
            ("x", Enumerable.Range(0, grid[0].Length).Select(h => $"H{h}").ToArray()),
            ("y", Enumerable.Range(0, grid.Length).Select(l => $"L{l}").ToArray()),
            ("colorscale", "Viridis"));
        return Chart([heat], ("title", Title(title)), ("yaxis", Obj(("autorange", "reversed"))));
    }

    /// <summary>
    /// Dataset summary: one horizontal bar panel per class with the top features by mean attribution (from
    /// <see cref="AttributionSummary.TopFeaturesPerClass"/>), the number of occurrences on hover.
    /// </summary>
    public static GenericChart TopFeatures(IReadOnlyDictionary<string, IReadOnlyList<FeatureImportance>> perClass)
    {
        var traces = new List<Trace>();
        var layout = new List<(string, object?)>
        {
            ("title", Title("top features per class (mean attribution)")),
            ("grid", Obj(("rows", 1), ("columns", Math.Max(1, perClass.Count)), ("pattern", "independent"), ("xgap", 0.25))),
            ("showlegend", false),
            ("height", 120 + 22 * Math.Max(1, perClass.Values.Select(v => v.Count).DefaultIfEmpty(0).Max())),
        };
        int n = 0;
        foreach (var (label, features) in perClass)
        {
            n++;
            var suffix = n == 1 ? "" : n.ToString();
            var top = features.Reverse().ToArray();   // plotly draws the first category at the bottom
            traces.Add(Trace("bar",
                ("orientation", "h"),
                ("x", top.Select(f => f.MeanAttribution).ToArray()),
                ("y", UniqueLabels(top.Select(f => f.Feature).ToArray())),
                ("customdata", top.Select(f => f.Occurrences).ToArray()),
                ("hovertemplate", "%{y}: %{x:.4g} (%{customdata} occurrences)<extra></extra>"),
                ("marker", Obj(("color", top.Select(f => f.MeanAttribution >= 0 ? Positive : Negative).ToArray()))),
                ("xaxis", "x" + suffix), ("yaxis", "y" + suffix)));
            layout.Add(("xaxis" + suffix, Obj(("title", Title(label)))));
            layout.Add(("yaxis" + suffix, Obj(("type", "category"), ("automargin", true))));
        }
        return Chart(traces, layout.ToArray());
    }

    /// <summary>
    /// Category labels made unique (plotly merges equal categories): repeats get invisible zero-width spaces appended,
    /// so "the" twice stays two bars that both read "the".
    /// </summary>
    internal static string[] UniqueLabels(IReadOnlyList<string> labels)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var result = new string[labels.Count];
        for (int i = 0; i < labels.Count; i++)
        {
            var l = labels[i].Length == 0 ? "∅" : labels[i];
            int n = seen.GetValueOrDefault(l);
            seen[l] = n + 1;
            result[i] = l + new string('\u200B', n);
        }
        return result;
    }

    private static double[][] ToDouble(float[][] m) => m.Select(r => r.Select(v => (double)v).ToArray()).ToArray();
}
