using DynamicObj;
using Plotly.NET;

namespace FineTune.Kit.Evaluation;

/// <summary>
/// Builds Plotly charts from plain trace and layout properties (the plotly.js schema). Plotly.NET's F# chart
/// functions take every optional argument as a required parameter from C#, so setting properties directly is both
/// shorter and closer to the plotly.js documentation.
/// </summary>
internal static class PlotlyTraces
{
    /// <summary>A nested plotly object; null values are left out.</summary>
    public static DynamicObj.DynamicObj Obj(params (string Key, object? Value)[] properties)
    {
        var o = new DynamicObj.DynamicObj();
        foreach (var (k, v) in properties) if (v is not null) o.SetProperty(k, v);
        return o;
    }

    /// <summary>A trace of a plotly.js type ("bar", "scatter", "heatmap").</summary>
    public static Trace Trace(string type, params (string Key, object? Value)[] properties)
    {
        var t = new Trace2D(type);
        foreach (var (k, v) in properties) if (v is not null) t.SetProperty(k, v);
        return t;
    }

    /// <summary>A chart of the traces with a title, axis titles and any further layout properties.</summary>
    public static GenericChart Chart(IEnumerable<Trace> traces, string title, string? xTitle, string? yTitle,
        params (string Key, object? Value)[] layoutProperties) =>
        Chart(traces, title, xTitle, yTitle, 800, 500, layoutProperties);

    /// <summary>A chart of the given size in pixels.</summary>
    public static GenericChart Chart(IEnumerable<Trace> traces, string title, string? xTitle, string? yTitle, int width, int height,
        params (string Key, object? Value)[] layoutProperties)
    {
        var chart = GenericChart.ofTraceObjects(true, traces.ToList());
        var layout = new Layout();
        layout.SetProperty("width", width);
        layout.SetProperty("height", height);
        layout.SetProperty("title", Obj(("text", title)));
        if (xTitle is not null) layout.SetProperty("xaxis", Obj(("title", Obj(("text", xTitle)))));
        if (yTitle is not null) layout.SetProperty("yaxis", Obj(("title", Obj(("text", yTitle)))));
        foreach (var (k, v) in layoutProperties) if (v is not null) layout.SetProperty(k, v);
        return Plotly.NET.Chart.withLayout(layout).Invoke(chart);
    }
}
