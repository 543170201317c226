using DynamicObj;
using Plotly.NET;

namespace FineTune.Kit.Explain;

/// <summary>
/// Builds Plotly.NET charts from plotly.js attribute names directly (trace type, x, y, z, marker.color, ...). The
/// F# chart functions expose every optional argument as a required one to C#; setting the documented plotly.js
/// attributes keeps these charts short and readable.
/// </summary>
internal static class PlotlyTraces
{
    /// <summary>A trace of the given plotly.js type with the given attributes.</summary>
    public static Trace Trace(string type, params (string Name, object? Value)[] attributes)
    {
        var t = new Trace2D(type);
        foreach (var (name, value) in attributes) if (value is not null) t.SetProperty(name, value);
        return t;
    }

    /// <summary>A nested attribute object (marker, axis, grid, ...).</summary>
    public static DynamicObj.DynamicObj Object(params (string Name, object? Value)[] attributes)
    {
        var o = new DynamicObj.DynamicObj();
        foreach (var (name, value) in attributes) if (value is not null) o.SetProperty(name, value);
        return o;
    }

    /// <summary>A chart of the traces with a layout built from the given attributes.</summary>
    public static GenericChart Chart(IEnumerable<Trace> traces, params (string Name, object? Value)[] layout)
    {
        var chart = GenericChart.ofTraceObjects(false, traces.ToArray());
        var l = new Layout();
        foreach (var (name, value) in layout) if (value is not null) l.SetProperty(name, value);
        return GenericChart.addLayout(l, chart);
    }

    /// <summary>A layout title object.</summary>
    public static DynamicObj.DynamicObj Title(string text) => Object(("text", text));
}
