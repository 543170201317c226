using FineTune.Kit.Data;
using FineTune.Kit.Evaluation;
using FineTune.Kit.Plots;
using Plotly.NET;

namespace FineTune.Kit.Tests.Plots;

/// <summary>The one-line tables and charts the notebooks use, and the examples they read from a data set.</summary>
public class QuickTests
{
    private static string Json(GenericChart chart) => GenericChart.toFigureJson(chart);

    [Fact]
    public void Table_keeps_every_row_and_column_in_order()
    {
        var frame = Quick.Table(["rule", "removed"], [["html", "3"], ["pii", "0"]]);
        Assert.Equal(["rule", "removed"], frame.Columns.Select(c => c.Name));
        Assert.Equal(2, frame.Rows.Count);
        Assert.Equal("pii", frame.Columns["rule"][1]);
        Assert.Equal("3", frame.Columns["removed"][0]);
    }

    [Fact]
    public void Table_refuses_a_row_of_the_wrong_width_naming_it()
    {
        var e = Assert.Throws<ArgumentException>(() => Quick.Table(["a", "b"], [["1", "2"], ["3"]]));
        Assert.Contains("row 1 has 1 cells, the header has 2", e.Message);
    }

    [Fact]
    public void Bars_and_grouped_bars_carry_keys_values_and_names()
    {
        var json = Json(Quick.GroupedBars("F1", ["a", "b"], [("before", [0.5, 0.25]), ("after", [1.0, 0.75])]));
        Assert.Contains("\"type\":\"bar\"", json);
        Assert.Contains("\"x\":[\"a\",\"b\"]", json);
        Assert.Contains("\"y\":[0.5,0.25]", json);
        Assert.Contains("\"name\":\"after\"", json);
        Assert.Contains("\"barmode\":\"group\"", json);
        Assert.Contains("\"text\":\"F1\"", json);
        var e = Assert.Throws<ArgumentException>(() => Quick.Bars("t", ["a", "b"], [1.0]));
        Assert.Contains("1 values for 2 keys", e.Message);
    }

    [Fact]
    public void Lines_need_as_many_x_as_y()
    {
        Assert.Contains("\"mode\":\"lines+markers\"", Json(Quick.Lines("t", [("s", [1.0, 2.0], [3.0, 4.0])])));
        var e = Assert.Throws<ArgumentException>(() => Quick.Lines("t", [("s", [1.0, 2.0], [3.0])]));
        Assert.Contains("series 's' has 2 x values and 1 y values", e.Message);
    }

    [Fact]
    public void Labeled_examples_come_in_order_up_to_max_and_a_missing_label_names_its_line()
    {
        var data = Dataset.FromTexts(["one", "two", "three"], ["a", "b", "c"]);
        Assert.Equal(["one", "two"], LabeledExample.From(data, 2).Select(e => e.Text));
        Assert.Equal(["a", "b", "c"], LabeledExample.From(data).Select(e => e.Label));
        var unlabeled = Dataset.FromTexts(["one", "two"], ["a", null]);
        var e = Assert.Throws<DataFormatException>(() => LabeledExample.From(unlabeled));
        Assert.Contains("line 2", e.Message);
    }
}
