using Microsoft.Data.Analysis;
using Plotly.NET;

namespace FineTune.Kit.Plots;

/// <summary>
/// One-line tables and charts for notebooks and scripts: a table from rows of strings, bars, grouped bars and lines.
/// Import them with <c>using static FineTune.Kit.Plots.Quick;</c> and call <c>Table(...)</c>, <c>Bars(...)</c>.
/// </summary>
/// <example>
/// <code>
/// Bars("Tickets per label", counts.Keys, counts.Values.Select(c => (double)c), "tickets")
/// Table(["rule", "removed"], report.Rules.Select(r => (IReadOnlyList&lt;string&gt;)[r.Name, r.Removed.ToString()]))
/// </code>
/// </example>
public static class Quick
{
    /// <summary>
    /// A table as a DataFrame of string columns (notebooks show its first rows and its shape). Every row must have as
    /// many cells as the header.
    /// </summary>
    public static DataFrame Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(rows);
        if (header.Count == 0) throw new ArgumentException("a table needs at least one column", nameof(header));
        var data = rows.ToList();
        for (int r = 0; r < data.Count; r++)
            if (data[r].Count != header.Count)
                throw new ArgumentException($"row {r} has {data[r].Count} cells, the header has {header.Count}", nameof(rows));
        return new DataFrame(header.Select((h, i) => (DataFrameColumn)new StringDataFrameColumn(h, data.Select(r => r[i]))));
    }

    /// <summary>A bar chart: one bar per key, with a title and an optional series name.</summary>
    public static GenericChart Bars(string title, IEnumerable<string> keys, IEnumerable<double> values, string name = "") =>
        GroupedBars(title, keys, [(name, values)]);

    /// <summary>Bars of several series side by side over the same keys (e.g. F1 per class before and after training).</summary>
    public static GenericChart GroupedBars(string title, IEnumerable<string> keys,
        IEnumerable<(string Name, IEnumerable<double> Values)> series)
    {
        var x = keys.ToArray();
        var traces = series.Select(s =>
        {
            var y = s.Values.ToArray();
            if (y.Length != x.Length)
                throw new ArgumentException($"series '{s.Name}' has {y.Length} values for {x.Length} keys", nameof(series));
            return PlotlyTraces.Trace("bar", ("x", x), ("y", y), ("name", s.Name == "" ? null : s.Name));
        }).ToList();
        return PlotlyTraces.Chart(traces, ("title", PlotlyTraces.Title(title)), ("barmode", "group"));
    }

    /// <summary>Line charts of several series (x and y of each must have the same length).</summary>
    public static GenericChart Lines(string title, IEnumerable<(string Name, IEnumerable<double> X, IEnumerable<double> Y)> series)
    {
        var traces = series.Select(s =>
        {
            var (x, y) = (s.X.ToArray(), s.Y.ToArray());
            if (x.Length != y.Length)
                throw new ArgumentException($"series '{s.Name}' has {x.Length} x values and {y.Length} y values", nameof(series));
            return PlotlyTraces.Trace("scatter", ("mode", "lines+markers"), ("x", x), ("y", y), ("name", s.Name));
        }).ToList();
        return PlotlyTraces.Chart(traces, ("title", PlotlyTraces.Title(title)));
    }
}
