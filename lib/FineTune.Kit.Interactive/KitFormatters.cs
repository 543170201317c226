using System.Reflection;
using FineTune.Kit.Plots;
using Microsoft.Data.Analysis;
using Microsoft.DotNet.Interactive.Formatting;
using Plotly.NET;

namespace FineTune.Kit.Interactive;

/// <summary>
/// The kit's formatters for .NET Interactive: Plotly.NET charts with plotly.js embedded once per notebook (offline,
/// no require.js or CDN), every kit type with a public <c>ToHtml()</c> (reports) or <c>Chart()</c> through that,
/// and DataFrames as their first rows plus the shape. They produce the same HTML as the kit's headless runner, since
/// both use <see cref="DisplayFormatter"/>.
/// </summary>
public static class KitFormatters
{
    private static readonly object Gate = new();
    private static DisplayFormatter? _formatter;

    /// <summary>The formatter of this kernel (one per notebook): it remembers whether plotly.js was sent already.</summary>
    public static DisplayFormatter Current => _formatter ?? throw new InvalidOperationException("KitFormatters.Register() was not called");

    /// <summary>The types the extension formats: charts, DataFrames, and the kit's reports.</summary>
    public static IReadOnlyList<Type> FormattedTypes { get; private set; } = [];

    /// <summary>Registers the formatters (once per process; later calls keep the first registration).</summary>
    public static IReadOnlyList<Type> Register()
    {
        lock (Gate)
        {
            if (_formatter is not null) return FormattedTypes;
            _formatter = new DisplayFormatter();
            var types = new List<Type> { typeof(GenericChart), typeof(DataFrame) };
            types.AddRange(KitReportTypes(typeof(KitException).Assembly));
            foreach (var type in types)
            {
                Formatter.Register(type, (value, writer) => writer.Write(Html(value)), HtmlFormatter.MimeType);
                Formatter.Register(type, (value, writer) => writer.Write(Plain(value)), PlainTextFormatter.MimeType);
                Formatter.SetPreferredMimeTypesFor(type, HtmlFormatter.MimeType, PlainTextFormatter.MimeType);
            }
            return FormattedTypes = types;
        }
    }

    /// <summary>The HTML the extension shows for a value.</summary>
    public static string Html(object? value)
    {
        lock (Gate) return Current.Format(value)["text/html"] ?? System.Net.WebUtility.HtmlEncode(PlainText.Format(value));
    }

    /// <summary>
    /// The text/plain form shown beside the HTML (and by front ends without HTML). Computed on its own: asking the
    /// HTML formatter would count as showing a chart and move plotly.js out of the output that the page shows.
    /// </summary>
    public static string Plain(object? value) => value is GenericChart ? "Plotly.NET chart" : PlainText.Format(value);

    /// <summary>Public, concrete kit types that render themselves: a public <c>ToHtml()</c> or <c>Chart()</c>.</summary>
    internal static IEnumerable<Type> KitReportTypes(Assembly kit) =>
        kit.GetExportedTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false, ContainsGenericParameters: false })
            .Where(t => Renders(t, "ToHtml", typeof(string)) || Renders(t, "Chart", typeof(GenericChart)))
            .OrderBy(t => t.FullName, StringComparer.Ordinal);

    private static bool Renders(Type type, string name, Type returns) =>
        type.GetMethod(name, BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes) is { } m
        && returns.IsAssignableFrom(m.ReturnType);
}
