using Plotly.NET;

namespace FineTune.Kit.Plots;

/// <summary>
/// Builds Plotly.NET charts from plotly.js attribute names (trace type, x, y, z, marker.color, layout.grid, ...).
/// Plotly.NET's F# chart functions expose every optional argument as a required parameter to C#; setting the
/// documented plotly.js attributes directly keeps the kit's charts short and close to the plotly.js reference.
/// </summary>
internal static class PlotlyTraces
{
    /// <summary>A trace of a plotly.js type ("bar", "scatter", "heatmap") with the given attributes; nulls are left out.</summary>
    public static Trace Trace(string type, params (string Name, object? Value)[] attributes)
    {
        var t = new Trace2D(type);
        foreach (var (name, value) in attributes) if (value is not null) t.SetProperty(name, value);
        return t;
    }

    /// <summary>A nested attribute object (marker, axis, grid, ...); nulls are left out.</summary>
    public static DynamicObj.DynamicObj Obj(params (string Name, object? Value)[] attributes)
    {
        var o = new DynamicObj.DynamicObj();
        foreach (var (name, value) in attributes) if (value is not null) o.SetProperty(name, value);
        return o;
    }

    /// <summary>A title object: plotly.js titles are objects with a <c>text</c> attribute.</summary>
    public static DynamicObj.DynamicObj Title(string text) => Obj(("text", text));

    /// <summary>A chart of the traces with a layout built from the given attributes.</summary>
    public static GenericChart Chart(IEnumerable<Trace> traces, params (string Name, object? Value)[] layout)
    {
        var chart = GenericChart.ofTraceObjects(true, traces.ToList());
        var l = new Layout();
        foreach (var (name, value) in layout) if (value is not null) l.SetProperty(name, value);
        return Plotly.NET.Chart.withLayout(l).Invoke(chart);
    }

    /// <summary>An 800 × 500 chart with a title, axis titles and any further layout attributes.</summary>
    public static GenericChart Chart(IEnumerable<Trace> traces, string title, string? xTitle, string? yTitle,
        params (string Name, object? Value)[] layout) =>
        Chart(traces, title, xTitle, yTitle, 800, 500, layout);

    /// <summary>A chart of the given size in pixels with a title, axis titles and any further layout attributes.</summary>
    public static GenericChart Chart(IEnumerable<Trace> traces, string title, string? xTitle, string? yTitle, int width, int height,
        params (string Name, object? Value)[] layout) =>
        Chart(traces, [("width", width), ("height", height), ("title", Title(title)),
            ("xaxis", xTitle is null ? null : Obj(("title", Title(xTitle)))),
            ("yaxis", yTitle is null ? null : Obj(("title", Title(yTitle)))), .. layout]);
}
