using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FineTune.Kit.Monitoring;
using FineTune.Kit.Serving;
using FineTune.Kit.Tests.Cli;
using FineTune.Kit.Tests.Build;

namespace FineTune.Kit.Tests.Server;

/// <summary>`ftk serve` and `ftk monitor` as commands: the contract lines, bad options, and a killed server's log.</summary>
public class ServeCommandTests
{
    [Fact]
    public async Task Ftk_serve_prints_its_address_and_a_killed_server_leaves_a_readable_log()
    {
        var root = Path.Combine(Path.GetTempPath(), "ftk-serve-cli-" + Guid.NewGuid().ToString("N"));
        var log = Path.Combine(root, "requests.db");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "ftk.dll"), "serve", "--model", ServerFixture.SampleModel,
                                  "--host", "127.0.0.1", "--port", "0", "--log", log, "--device", "cpu" })
            start.ArgumentList.Add(a);
        start.Environment["OMP_NUM_THREADS"] = "1";
        using var process = Process.Start(start)!;
        try
        {
            var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(3));
            var match = Regex.Match(line ?? "", @"^listening on http://127\.0\.0\.1:(\d+)$");
            Assert.True(match.Success, $"first line was '{line}'; stderr: {(process.HasExited ? process.StandardError.ReadToEnd() : "")}");
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{match.Groups[1].Value}") };
            for (var i = 0; i < 3; i++)
            {
                var response = await http.PostAsync("/v1/completions", new StringContent(
                    $"{{\"model\": \"base-model\", \"prompt\": \"Ticket {i}: refund please\", \"max_tokens\": 4, \"temperature\": 0}}",
                    System.Text.Encoding.UTF8, "application/json"));
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            }
            // rows are committed as each answer completes; read them while the server runs, then kill it mid-life
            for (var wait = 0; wait < 100 && RequestLog.Read(log).Count < 3; wait++) await Task.Delay(50);
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            var rows = RequestLog.Read(log);
            Assert.Equal(3, rows.Count);
            Assert.Equal(["Ticket 0: refund please", "Ticket 1: refund please", "Ticket 2: refund please"], rows.Select(r => r.Text!).ToArray());
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            try { Directory.Delete(root, true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task ServeProcess_starts_ftk_serve_answers_the_OpenAI_SDK_and_stops_gracefully()
    {
        using var folder = new TempFolder();
        var log = folder.File("requests.db");
        var ftk = Path.Combine(AppContext.BaseDirectory, "ftk.dll");
        using (var server = ServeProcess.Start(ftk, ["--model", ServerFixture.SampleModel, "--port", "0", "--log", log, "--device", "cpu"]))
        {
            Assert.Equal("127.0.0.1", server.Address.Host);
            Assert.Contains("ftk serve: models base-model", server.ErrorOutput);
            var client = new OpenAI.OpenAIClient(new System.ClientModel.ApiKeyCredential("unused"),
                new OpenAI.OpenAIClientOptions { Endpoint = new Uri(server.Address, "v1") });
            var models = (await client.GetOpenAIModelClient().GetModelsAsync()).Value;
            Assert.Equal("base-model", Assert.Single(models).Id);
            var reply = (await client.GetChatClient("base-model").CompleteChatAsync([new OpenAI.Chat.UserChatMessage("Where is my parcel?")],
                new OpenAI.Chat.ChatCompletionOptions { MaxOutputTokenCount = 3, Temperature = 0 })).Value;
            Assert.True(reply.Usage.OutputTokenCount is > 0 and <= 3);

            server.Stop();
            // SIGTERM: ASP.NET Core's host stops, the server answers what it accepted, and the process exits cleanly
            Assert.True(server.HasExited);
            Assert.Equal(OperatingSystem.IsWindows() ? server.ExitCode : 0, server.ExitCode);
        }
        Assert.Equal(["/v1/models", "/v1/chat/completions"], RequestLog.Read(log).Select(r => r.Endpoint).ToArray());

        // a cell run again stops the server its previous run left listening
        using (var left = ServeProcess.Start(ftk, ["--model", ServerFixture.SampleModel, "--port", "0", "--device", "cpu"]))
        {
            ServeProcess.StopAll();
            Assert.True(left.HasExited);
            Assert.Equal(0, left.ExitCode);
        }

        var missing = Assert.Throws<FileNotFoundException>(() => ServeProcess.Start(folder.File("bin/ftk.dll"), ["--model", "x"]));
        Assert.Contains("ftk not found at", missing.Message);
        var refused = Assert.Throws<InvalidOperationException>(() => ServeProcess.Start(ftk, ["--model", folder.File("no-such-model")]));
        Assert.Contains("exited with code", refused.Message);
        Assert.Contains("no-such-model is not a folder", refused.Message);
    }

    [Theory]
    [InlineData("--port", "70000", "--port must be between 0 and 65535")]
    [InlineData("--adapter", "nameonly", "--adapter: expected NAME=DIR")]
    [InlineData("--log-text", "raw", "--log-text: expected none or redacted")]
    [InlineData("--host", "example.org", "--host: 'example.org' is not an IP address")]
    public void Ftk_serve_refuses_bad_options_in_one_line(string option, string value, string message)
    {
        var (exit, _, err) = CliRunner.Run("serve", "--model", ServerFixture.SampleModel, option, value);
        Assert.Equal(1, exit);
        Assert.Contains(message, err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void Ftk_serve_names_a_missing_model_folder()
    {
        var (exit, _, err) = CliRunner.Run("serve", "--model", "/nonexistent/model");
        Assert.Equal(1, exit);
        Assert.Contains("/nonexistent/model", err);
    }

    [Fact]
    public void Ftk_monitor_json_prints_alerts_and_metrics_and_writes_the_report()
    {
        var root = Path.Combine(Path.GetTempPath(), "ftk-monitor-cli-" + Guid.NewGuid().ToString("N"));
        var log = Path.Combine(root, "requests.db");
        var reference = Path.Combine(RepoFiles.Root, "data", "sample", "support_tickets.heldout.jsonl");
        try
        {
            using (var requestLog = RequestLog.Open(log))
                foreach (var (text, i) in File.ReadLines(reference).Take(40).Select((l, i) => ((string)JsonNode.Parse(l)!["text"]!, i)))
                    requestLog.Write(new RequestRecord { Time = DateTimeOffset.UtcNow.AddSeconds(i), Endpoint = "/v1/chat/completions", Status = 200, LatencyMs = 10 + i }, text);
            var (exit, output, err) = CliRunner.Run("monitor", "--log", log, "--reference", reference, "--out", Path.Combine(root, "report"), "--json");
            Assert.True(exit == 0, err);
            var json = JsonNode.Parse(output)!;
            Assert.NotNull(json["alerts"]!.AsArray());
            Assert.Equal(40.0, (double)json["metrics"]!["recent_requests"]!);
            Assert.True(File.Exists(Path.Combine(root, "report", "report.html")));

            (exit, _, err) = CliRunner.Run("monitor", "--log", Path.Combine(root, "missing.db"), "--reference", reference);
            Assert.Equal(1, exit);
            Assert.Contains("missing.db", err);
            (exit, _, err) = CliRunner.Run("monitor", "--log", log, "--reference", reference, "--window", "soon");
            Assert.Equal(1, exit);
            Assert.Contains("--window", err);
        }
        finally { try { Directory.Delete(root, true); } catch (IOException) { } }
    }

    [Fact]
    public void Ftk_serve_names_a_bad_adapter_and_a_name_given_twice()
    {
        var root = Path.Combine(Path.GetTempPath(), "ftk-serve-bad-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "empty"));
            var (exit, _, err) = CliRunner.Run("serve", "--model", ServerFixture.SampleModel, "--adapter", $"x={Path.Combine(root, "empty")}");
            Assert.Equal(1, exit);
            Assert.Contains(Path.Combine(root, "empty", "adapter_config.json"), err);
            (exit, _, err) = CliRunner.Run("serve", "--model", ServerFixture.SampleModel, "--adapter", $"x={Path.Combine(root, "missing")}");
            Assert.Equal(1, exit);
            Assert.Contains("--adapter x:", err);
            ServerFixture.MakeAdapter(Path.Combine(root, "a"), seed: 1, withPrompt: false);
            (exit, _, err) = CliRunner.Run("serve", "--model", ServerFixture.SampleModel, "--adapter", $"base-model={Path.Combine(root, "a")}");
            Assert.Equal(1, exit);
            Assert.Contains("'base-model' is already taken", err);
        }
        finally { try { Directory.Delete(root, true); } catch (IOException) { } }
    }
}
