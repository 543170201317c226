using Plotly.NET;

namespace FineTune.Kit.Plots;

/// <summary>Small additions to Plotly.NET's C# surface that the kit's charts use everywhere.</summary>
public static class ChartExtensions
{
    /// <summary>Sets the chart's title (a fresh layout object, so charts that share a layout are not affected).</summary>
    public static GenericChart WithTitle(this GenericChart chart, string title)
    {
        var layout = GenericChart.getLayout(chart);
        var t = new Title();
        t.SetProperty("text", title);
        layout.SetProperty("title", t);
        return GenericChart.setLayout(layout, chart);
    }
}
