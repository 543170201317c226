using FineTune.Kit.Audit;

namespace FineTune.Kit.Monitoring;

/// <summary>
/// Personal data in an <c>ftk serve</c> request log. The log keeps no generated text — only the input text after
/// redaction (or nothing, with <see cref="LogTextMode.None"/>), lengths, labels and errors — so this scan can check
/// what was stored: detections in the stored inputs and error messages (personal data the redaction missed), and the
/// placeholders the redaction left (how much personal data users sent). Replies are scanned at evaluation time with
/// <see cref="OutputPii.ScanGenerations"/>.
/// </summary>
public static class RequestLogPii
{
    /// <summary>Scans the stored text of every request of a log file.</summary>
    public static PiiScanReport Scan(string logPath)
    {
        var rows = RequestLog.Read(logPath);
        var texts = rows.Select(r => string.Join("\n", new[] { r.Text, r.Error }.Where(t => t is not null))).ToList();
        var withoutText = rows.Count(r => r.Text is null && r.InputChars > 0);
        var notes = new List<string>
        {
            "The request log stores no generated replies, so replies cannot be checked here; scan them at evaluation time (OutputPii.ScanGenerations).",
            $"{rows.Count} requests: the stored input text (already redacted when logged) and error messages were scanned.",
        };
        if (withoutText > 0) notes.Add($"{withoutText} requests have no stored text (logged with --log-text none): only their lengths are known.");
        return OutputPii.Scan(texts, $"request log {Path.GetFileName(logPath)}", notes: notes);
    }
}
