using Plotly.NET;

namespace FineTune.Kit.Plots;

/// <summary>
/// The one shape of every result the kit reports (curation, training history, evaluation, comparison, attribution,
/// preferences, audit, monitoring): its charts, a self-contained HTML page, a JSON document with every number, and a
/// folder holding both.
/// </summary>
public interface IReport
{
    /// <summary>The charts the HTML page shows, in page order (empty when the report has nothing to plot).</summary>
    IReadOnlyList<GenericChart> Charts();

    /// <summary>A self-contained page (plotly.js embedded, no network) with the report's tables and charts.</summary>
    string ToHtml();

    /// <summary>Every number the report holds, as indented JSON; what scripts and later stages read.</summary>
    string ToJson();

    /// <summary>
    /// Writes <c>report.html</c> and <c>report.json</c> into <paramref name="directory"/> (created if missing), each
    /// atomically. Implementations call <see cref="ReportFolder.Write"/>.
    /// </summary>
    void Save(string directory);
}

/// <summary>The files a saved <see cref="IReport"/> consists of.</summary>
public static class ReportFolder
{
    /// <summary>File name of the HTML page inside a report folder.</summary>
    public const string HtmlFile = "report.html";

    /// <summary>File name of the JSON document inside a report folder.</summary>
    public const string JsonFile = "report.json";

    /// <summary>Writes a report's JSON and HTML into a folder; refuses a path that is an existing file.</summary>
    public static void Write(IReport report, string directory)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (File.Exists(directory))
            throw new ArgumentException($"A report is saved into a folder, but '{directory}' is a file.", nameof(directory));
        Directory.CreateDirectory(directory);
        Io.AtomicFile.WriteAllText(Path.Combine(directory, JsonFile), report.ToJson());
        Io.AtomicFile.WriteAllText(Path.Combine(directory, HtmlFile), report.ToHtml());
    }
}
