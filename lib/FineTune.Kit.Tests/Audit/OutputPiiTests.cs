using System.Text.Json.Nodes;
using FineTune.Kit.Audit;
using FineTune.Kit.Monitoring;

namespace FineTune.Kit.Tests.Audit;

public class OutputPiiTests
{
    [Fact]
    public void Findings_are_counted_by_kind_looked_up_in_training_data_and_never_repeated()
    {
        string[] outputs = ["write to ada@example.com for help", "nothing personal here", "card 4111 1111 1111 1111, see [EMAIL]"];
        var report = OutputPii.Scan(outputs, training: ["Ada's address is ADA@example.com."]);
        Assert.Equal(2, report.Findings.Count);
        Assert.Equal(2.0 / 3, report.TextsWithPii.Estimate, 12);
        Assert.Equal(1, report.ByKind["EMAIL"]);
        Assert.Equal(1, report.ByKind["CREDIT_CARD"]);
        Assert.True(report.Findings[0].InTrainingData);      // the address comes from the training data
        Assert.False(report.Findings[1].InTrainingData);     // the card number does not
        Assert.Equal(1, report.Placeholders["[EMAIL]"]);
        Assert.DoesNotContain("ada@example.com", report.ToJson());
        Assert.DoesNotContain("4111 1111", report.ToHtml());
        var json = JsonNode.Parse(report.ToJson())!;
        Assert.Equal(1, json["in_training_data"]!.GetValue<int>());
        Assert.Null(JsonNode.Parse(OutputPii.Scan(outputs).ToJson())!["in_training_data"]);
    }

    [Fact]
    public void A_serve_log_is_scanned_for_what_it_stores_and_says_replies_are_not_logged()
    {
        using var tmp = new TempFolder();
        using (var log = RequestLog.Open(tmp["requests.db"]))
        {
            log.Write(new RequestRecord { Time = DateTimeOffset.UtcNow, Endpoint = "/v1/chat/completions", Status = 200 }, "mail me at bob@example.org please");
            log.Write(new RequestRecord { Time = DateTimeOffset.UtcNow, Endpoint = "/v1/classify", Status = 200 }, "my parcel never arrived");
        }
        var report = RequestLogPii.Scan(tmp["requests.db"]);
        Assert.Equal(2, report.Texts);
        Assert.Empty(report.Findings);                       // the log stores inputs redacted
        Assert.Equal(1, report.Placeholders["[EMAIL]"]);     // and shows how much users sent
        Assert.Contains(report.Notes, n => n.Contains("no generated replies"));
    }
}
