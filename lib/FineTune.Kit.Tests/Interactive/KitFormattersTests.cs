using System.Runtime.Loader;
using System.Text.RegularExpressions;
using FineTune.Kit.Data;
using FineTune.Kit.Data.Curation;
using FineTune.Kit.Interactive;
using FineTune.Kit.Plots;
using Microsoft.Data.Analysis;
using Microsoft.DotNet.Interactive.Formatting;
using Plotly.NET;

namespace FineTune.Kit.Tests.Interactive;

/// <summary>
/// The extension's formatters, through .NET Interactive's own Formatter (what the engine calls for every displayed
/// value): charts as HTML with plotly.js embedded once and no CDN, kit reports through their ToHtml(), DataFrames as
/// their first rows plus the shape.
/// </summary>
public class KitFormattersTests
{
    private const string Html = "text/html";

    static KitFormattersTests()
    {
        FSharpCoreBinding.Install();
        KitFormatters.Register();
    }

    private static int BundleCount(string html) => Regex.Matches(html, @"plotly\.js v\d").Count;

    [Fact]
    public void Charts_are_html_with_plotly_embedded_once_per_notebook_and_no_cdn()
    {
        bool embeddedBefore = KitFormatters.Current.PlotlyEmbedded;
        var first = Formatter.ToDisplayString(Quick.Bars("first", ["a", "b"], [1, 2]), Html);
        var second = Formatter.ToDisplayString(Quick.Lines("second", [("s", [1.0, 2.0], [3.0, 4.0])]), Html);

        Assert.Contains("Plotly.newPlot", first);
        Assert.Contains("Plotly.newPlot", second);
        Assert.Equal(embeddedBefore ? 0 : 1, BundleCount(first));
        Assert.Equal(0, BundleCount(second));
        Assert.Contains("window.Plotly", second); // a later chart waits for the bundle instead of failing
        Assert.True(KitFormatters.Current.PlotlyEmbedded);
        foreach (var html in new[] { first, second })
        {
            Assert.DoesNotContain("cdn.plot.ly", html);
            Assert.DoesNotContain("cdnjs", html);
            Assert.DoesNotContain("require.config", html);
        }
    }

    [Fact]
    public void The_embedded_bundle_names_no_cdn()
    {
        Assert.Matches(@"plotly\.js v\d", HtmlPage.PlotlyJs.Value);
        Assert.DoesNotContain("cdn.plot.ly", HtmlPage.PlotlyJs.Value);
        Assert.DoesNotContain("cdnjs", HtmlPage.PlotlyJs.Value);
    }

    [Fact]
    public void A_large_dataframe_shows_its_first_rows_and_its_shape()
    {
        var frame = Quick.Table(["id", "text"], Enumerable.Range(0, 2499).Select(i => (IReadOnlyList<string>)[i.ToString(), $"row {i}"]));
        var html = Formatter.ToDisplayString(frame, Html);
        Assert.Equal(DisplayFormatter.DataFrameRows + 1, Regex.Matches(html, "<tr>").Count); // header + first rows
        Assert.Contains("row 19", html);
        Assert.DoesNotContain("row 20<", html);
        Assert.Contains("2499 rows, 2 columns (first 20 shown)", html);
    }

    [Fact]
    public void Kit_reports_render_through_their_own_html()
    {
        var curated = Dataset.FromTexts(["my parcel is late", "my parcel is late", "refund please"], ["shipping", "shipping", "refund"])
            .Curate(c => c.DropDuplicates());
        var html = Formatter.ToDisplayString(curated.Report, Html);
        Assert.Contains(WebUtilityEncode(curated.Report.Rules[0].Name), html);
        Assert.Contains("<table", html);
        Assert.Contains(typeof(CurationReport), KitFormatters.FormattedTypes);
        Assert.Contains(typeof(GenericChart), KitFormatters.FormattedTypes);
        Assert.Contains(typeof(DataFrame), KitFormatters.FormattedTypes);
    }

    [Fact]
    public void Registering_again_changes_nothing()
    {
        var types = KitFormatters.FormattedTypes;
        var formatter = KitFormatters.Current;
        Assert.Same(types, KitFormatters.Register());
        Assert.Same(formatter, KitFormatters.Current);
    }

    [Fact]
    public void FSharpCore_requests_of_a_newer_version_get_the_loaded_copy()
    {
        var loaded = typeof(Microsoft.FSharp.Core.FSharpOption<int>).Assembly;
        var newer = new System.Reflection.AssemblyName($"FSharp.Core, Version=99.0.0.0, Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a");
        Assert.Same(loaded, FSharpCoreBinding.Resolve(AssemblyLoadContext.Default, newer));
        Assert.Null(FSharpCoreBinding.Resolve(AssemblyLoadContext.Default, new System.Reflection.AssemblyName("Some.Other.Assembly")));
        Assert.False(FSharpCoreBinding.Install()); // installed once, by the constructor above
    }

    private static string WebUtilityEncode(string s) => System.Net.WebUtility.HtmlEncode(s);
}
