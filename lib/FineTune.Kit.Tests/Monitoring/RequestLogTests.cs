using FineTune.Kit.Monitoring;
using Microsoft.Data.Sqlite;

namespace FineTune.Kit.Tests.Monitoring;

public class RequestLogTests
{
    [Fact]
    public void Rows_round_trip_with_pii_redacted_and_the_file_in_wal_mode()
    {
        var path = Path.Combine(Path.GetTempPath(), "ftk-log-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            var time = new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
            using (var log = RequestLog.Open(path))
            {
                log.Write(new RequestRecord { Time = time, Endpoint = "/v1/classify", Model = "support", Adapter = "support", Status = 200,
                    PromptTokens = 12, LatencyMs = 3.5, Label = "billing", Probability = 0.75 }, "mail me at jane.doe@example.com please");
                // a reader sees committed rows while the writer still holds the file open
                var rows = RequestLog.Read(path);
                Assert.Single(rows);
                Assert.DoesNotContain("jane.doe", rows[0].Text);
                Assert.Equal(RequestLog.Redact("mail me at jane.doe@example.com please"), rows[0].Text);
                Assert.Equal(time, rows[0].Time);
                Assert.Equal(("billing", 0.75, 5, 38), (rows[0].Label, rows[0].Probability!.Value, rows[0].InputWords, rows[0].InputChars));
            }
            using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode;";
            Assert.Equal("wal", (string)command.ExecuteScalar()!);
        }
        finally { foreach (var f in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(path) + "*")) File.Delete(f); }
    }

    [Fact]
    public void Without_text_only_lengths_are_kept()
    {
        var path = Path.Combine(Path.GetTempPath(), "ftk-log-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            using (var log = RequestLog.Open(path, LogTextMode.None))
                log.Write(new RequestRecord { Endpoint = "/v1/completions", Status = 200 }, "secret text here");
            var row = Assert.Single(RequestLog.Read(path));
            Assert.Null(row.Text);
            Assert.Equal((3, 16), (row.InputWords, row.InputChars));
        }
        finally { foreach (var f in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(path) + "*")) File.Delete(f); }
    }

    [Fact]
    public void A_missing_or_foreign_file_is_a_clear_error()
    {
        Assert.Throws<FileNotFoundException>(() => RequestLog.Read("/nonexistent/requests.db"));
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "not a database");
            var e = Assert.Throws<InvalidDataException>(() => RequestLog.Read(path));
            Assert.Contains(path, e.Message);
        }
        finally { File.Delete(path); }
    }
}
