using System.Globalization;
using Plotly.NET;

namespace FineTune.Kit.Explain;

/// <summary>What the logit lens reads at one layer: the residual stream decoded through the final norm and unembedding.</summary>
/// <param name="Layer">Layer index (0 = embeddings, or the first block, as the integrator defines and labels).</param>
/// <param name="TopToken">The most likely next token at this layer.</param>
/// <param name="TopProbability">Its probability.</param>
/// <param name="TargetProbability">Probability of the target token at this layer.</param>
public sealed record LogitLensLayer(int Layer, string TopToken, double TopProbability, double TargetProbability);

/// <summary>
/// Logit-lens readings for one position of one prompt, layer by layer (filled by the model side; this type only holds
/// and draws them).
/// </summary>
public sealed class LogitLensResult
{
    /// <summary>Creates a result; layers must be in increasing order and probabilities in [0, 1].</summary>
    public LogitLensResult(string target, IReadOnlyList<LogitLensLayer> layers, string? position = null)
    {
        for (int i = 0; i < layers.Count; i++)
        {
            var l = layers[i];
            if (i > 0 && l.Layer <= layers[i - 1].Layer)
                throw new ArgumentException($"Logit-lens layers must increase; layer {l.Layer} follows {layers[i - 1].Layer}.");
            if (!(l.TopProbability is >= 0 and <= 1) || !(l.TargetProbability is >= 0 and <= 1))
                throw new ArgumentException($"Logit-lens probabilities at layer {l.Layer} must lie in [0, 1].");
        }
        Target = target;
        Layers = layers;
        Position = position;
    }

    /// <summary>The target token whose probability is tracked.</summary>
    public string Target { get; }

    /// <summary>The readings, one per layer.</summary>
    public IReadOnlyList<LogitLensLayer> Layers { get; }

    /// <summary>Which position was read (e.g. the last prompt token), for titles.</summary>
    public string? Position { get; }

    /// <summary>The first layer from which the target is the top token and stays so, or null.</summary>
    public int? SettlesAt()
    {
        int? at = null;
        foreach (var l in Layers)
            at = l.TopToken == Target ? at ?? l.Layer : null;
        return at;
    }

    /// <summary>Rows for an HTML table: layer, top token, its probability, target probability.</summary>
    public IEnumerable<IReadOnlyList<string>> TableRows() =>
        Layers.Select(l => (IReadOnlyList<string>)
        [
            l.Layer.ToString(CultureInfo.InvariantCulture), l.TopToken,
            l.TopProbability.ToString("F3", CultureInfo.InvariantCulture),
            l.TargetProbability.ToString("F3", CultureInfo.InvariantCulture),
        ]);

    /// <summary>Target probability and top-token probability per layer; the top token is written at each point.</summary>
    public GenericChart Chart()
    {
        var x = Layers.Select(l => l.Layer).ToArray();
        var target = Plots.PlotlyTraces.Trace("scatter",
            ("x", x), ("y", Layers.Select(l => l.TargetProbability).ToArray()),
            ("mode", "lines+markers"), ("name", $"p({Target})"));
        var top = Plots.PlotlyTraces.Trace("scatter",
            ("x", x), ("y", Layers.Select(l => l.TopProbability).ToArray()),
            ("mode", "lines+markers+text"), ("name", "p(top token)"),
            ("text", Layers.Select(l => l.TopToken).ToArray()), ("textposition", "top center"),
            ("line", Plots.PlotlyTraces.Obj(("dash", "dash"))));
        var title = $"logit lens: p({Target}) by layer" + (Position is null ? "" : $" at {Position}");
        return Plots.PlotlyTraces.Chart([target, top],
            ("title", Plots.PlotlyTraces.Title(title)),
            ("xaxis", Plots.PlotlyTraces.Obj(("title", Plots.PlotlyTraces.Title("layer")), ("dtick", 1))),
            ("yaxis", Plots.PlotlyTraces.Obj(("title", Plots.PlotlyTraces.Title("probability")), ("range", new[] { 0.0, 1.05 }))));
    }

    /// <summary>
    /// The classic logit-lens grid over several positions: rows are layers, columns positions (labelled by
    /// <see cref="Position"/>), each cell shows the top token and is coloured by its probability. All results must
    /// cover the same layers.
    /// </summary>
    public static GenericChart GridChart(IReadOnlyList<LogitLensResult> positions)
    {
        if (positions.Count == 0) throw new ArgumentException("The logit-lens grid needs at least one position.");
        var layers = positions[0].Layers.Select(l => l.Layer).ToArray();
        for (int p = 1; p < positions.Count; p++)
            if (!positions[p].Layers.Select(l => l.Layer).SequenceEqual(layers))
                throw new ArgumentException($"Logit-lens position {p} covers different layers than position 0.");
        var columns = AttributionCharts.UniqueLabels(positions.Select((r, p) => r.Position ?? $"#{p}").ToArray());
        // z[layer][position]
        var z = layers.Select((_, li) => positions.Select(r => r.Layers[li].TopProbability).ToArray()).ToArray();
        var text = layers.Select((_, li) => positions.Select(r => r.Layers[li].TopToken).ToArray()).ToArray();
        var heat = Plots.PlotlyTraces.Trace("heatmap",
            ("z", z), ("x", columns), ("y", layers.Select(l => $"L{l}").ToArray()),
            ("text", text), ("texttemplate", "%{text}"), ("colorscale", "Blues"), ("zmin", 0.0), ("zmax", 1.0),
            ("hovertemplate", "%{y}, %{x}: %{text} (p = %{z:.3f})<extra></extra>"));
        return Plots.PlotlyTraces.Chart([heat],
            ("title", Plots.PlotlyTraces.Title("logit lens: top token by layer and position")),
            ("xaxis", Plots.PlotlyTraces.Obj(("type", "category"), ("title", Plots.PlotlyTraces.Title("position")))),
            ("yaxis", Plots.PlotlyTraces.Obj(("type", "category"), ("title", Plots.PlotlyTraces.Title("layer")))));
    }
}
