using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using FineTune.Kit.Models;
using FineTune.Kit.Monitoring;
using FineTune.Kit.Server;
using OpenAI;
using OpenAI.Chat;

namespace FineTune.Kit.Tests.Server;

/// <summary>Errors in OpenAI's shape, authentication, the bounded queue, concurrency and the request log.</summary>
public sealed class ServerBehaviourTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private KitServer Server => fixture.Server;

    private static async Task<(HttpStatusCode Status, JsonNode? Error, HttpResponseMessage Response)> Raw(Uri address, string path, string body,
        string? key = null)
    {
        using var http = new HttpClient { BaseAddress = address };
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key is not null) request.Headers.Authorization = new("Bearer", key);
        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.StartsWith('{') ? JsonNode.Parse(text)!["error"] : null, response);
    }

    [Theory]
    [InlineData("{\"model\": \"base-model\", \"messages\": [", 400, "invalid_json", null)]
    [InlineData("[1, 2]", 400, "invalid_json", null)]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", 400, "missing_required_parameter", "model")]
    [InlineData("{\"model\": \"nope\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", 404, "model_not_found", "model")]
    [InlineData("{\"model\": \"base-model\", \"messages\": []}", 400, "invalid_value", "messages")]
    [InlineData("{\"model\": \"base-model\", \"messages\": [{\"role\": \"robot\", \"content\": \"hi\"}]}", 400, "invalid_value", "messages[0].role")]
    [InlineData("{\"model\": \"base-model\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": 3}", 400, "invalid_value", "temperature")]
    [InlineData("{\"model\": \"base-model\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"top_p\": 0}", 400, "invalid_value", "top_p")]
    [InlineData("{\"model\": \"base-model\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 0}", 400, "invalid_value", "max_tokens")]
    [InlineData("{\"model\": \"base-model\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"n\": 99}", 400, "invalid_value", "n")]
    [InlineData("{\"model\": \"base-model\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stop\": 5}", 400, "invalid_value", "stop")]
    [InlineData("{\"model\": \"base-model\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 5000}", 400, "context_length_exceeded", "max_tokens")]
    public async Task Bad_requests_get_OpenAI_shaped_errors(string body, int status, string code, string? param)
    {
        var (actual, error, _) = await Raw(Server.Address, "/v1/chat/completions", body);
        Assert.Equal(status, (int)actual);
        Assert.NotNull(error);
        Assert.Equal(code, (string?)error!["code"]);
        Assert.Equal(param, (string?)error["param"]);
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)error["message"]));
    }

    [Fact]
    public async Task A_prompt_longer_than_the_context_is_refused_through_the_SDK()
    {
        var client = new OpenAIClient(new ApiKeyCredential("x"), new OpenAIClientOptions { Endpoint = new Uri(Server.Address, "/v1") });
        var longText = string.Join(' ', Enumerable.Repeat("parcel", 1500));
        var e = await Assert.ThrowsAsync<ClientResultException>(() => client.GetChatClient("base-model").CompleteChatAsync([new UserChatMessage(longText)]));
        Assert.Equal(400, e.Status);
        Assert.Contains("context length", e.Message);
        var unknown = await Assert.ThrowsAsync<ClientResultException>(() => client.GetChatClient("gpt-4o").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(404, unknown.Status);
        Assert.Contains("gpt-4o", unknown.Message);
    }

    [Fact]
    public async Task Bodies_over_the_limit_get_413_and_unknown_paths_404()
    {
        var big = "{\"model\": \"base-model\", \"prompt\": \"" + new string('a', 2 << 20) + "\"}";
        var (status, error, _) = await Raw(Server.Address, "/v1/completions", big);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("request_too_large", (string?)error!["code"]);
        (status, error, _) = await Raw(Server.Address, "/v1/embeddings", "{}");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.NotNull(error);
    }

    [Fact]
    public async Task With_an_api_key_requests_without_it_get_401()
    {
        await using var server = await KitServer.StartAsync(new ServerOptions
            { ModelDirectory = ServerFixture.SampleModel, Port = 0, ApiKey = "s3cret", Device = "cpu" });
        OpenAIClient Client(string key) => new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(server.Address, "/v1") });
        var e = await Assert.ThrowsAsync<ClientResultException>(() => Client("wrong").GetOpenAIModelClient().GetModelsAsync());
        Assert.Equal(401, e.Status);
        var (status, error, _) = await Raw(server.Address, "/v1/completions", "{\"model\": \"base-model\", \"prompt\": \"hi\"}");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_api_key", (string?)error!["code"]);
        var models = (await Client("s3cret").GetOpenAIModelClient().GetModelsAsync()).Value;
        Assert.Single(models);
        using var http = new HttpClient { BaseAddress = server.Address };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task Chat_is_rendered_with_the_models_own_template_and_a_broken_one_is_refused_by_name()
    {
        // a Gemma-style template the kit has no built-in copy of: the server must render with it, not fall back to plain text
        using var folder = new TempFolder();
        var model = folder.File("gemma-style");
        Directory.CreateDirectory(model);
        foreach (var file in Directory.GetFiles(ServerFixture.SampleModel)) File.Copy(file, Path.Combine(model, Path.GetFileName(file)));
        const string jinja = "{% for m in messages %}<start_of_turn>{{ 'model' if m['role'] == 'assistant' else m['role'] }}\n" +
                             "{{ m['content'] | trim }}<end_of_turn>\n{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}";
        File.WriteAllText(Path.Combine(model, "chat_template.jinja"), jinja);
        await using (var server = await KitServer.StartAsync(new ServerOptions { ModelDirectory = model, Port = 0, Device = "cpu" }))
        {
            var chat = new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(server.Address, "/v1") })
                .GetChatClient("gemma-style");
            var reply = (await chat.CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage("  Where is my parcel?  ")],
                new ChatCompletionOptions { MaxOutputTokenCount = 3, Temperature = 0 })).Value;
            var expected = "<start_of_turn>system\nBe brief.<end_of_turn>\n<start_of_turn>user\nWhere is my parcel?<end_of_turn>\n<start_of_turn>model\n";
            using var tokenizer = CausalLM.Load(model, new LoadOptions { Device = "cpu" });
            Assert.Equal(tokenizer.RequireTokenizer().Encode(expected).Count, reply.Usage.InputTokenCount);
        }

        File.WriteAllText(Path.Combine(model, "chat_template.jinja"), "{% for m in messages %}{{ m['content'] }}");
        var e = await Assert.ThrowsAnyAsync<Exception>(() => KitServer.StartAsync(new ServerOptions { ModelDirectory = model, Port = 0, Device = "cpu" }));
        Assert.Contains("chat_template.jinja", e.Message);
    }

    [Fact]
    public async Task Thirty_two_concurrent_requests_are_all_answered_and_each_logged_once()
    {
        var root = Path.Combine(Path.GetTempPath(), "ftk-serve-" + Guid.NewGuid().ToString("N"));
        var log = Path.Combine(root, "requests.db");
        try
        {
            await using (var server = await KitServer.StartAsync(new ServerOptions
                         { ModelDirectory = ServerFixture.SampleModel, Port = 0, LogPath = log, Device = "cpu" }))
            {
                var client = new OpenAIClient(new ApiKeyCredential("x"), new OpenAIClientOptions
                    { Endpoint = new Uri(server.Address, "/v1"), NetworkTimeout = TimeSpan.FromMinutes(5) });
                var chat = client.GetChatClient("base-model");
                var answers = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => chat.CompleteChatAsync(
                    [new UserChatMessage($"Request {i}: my parcel is late, my email is user{i}@example.com")],
                    new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 8 })));
                Assert.Equal(32, answers.Length);
                Assert.All(answers, a => Assert.Equal(200, a.GetRawResponse().Status));
                using var http = new HttpClient { BaseAddress = server.Address };
                var metrics = await http.GetStringAsync("/metrics");
                Assert.Contains("ftk_requests_total{endpoint=\"/v1/chat/completions\",model=\"base-model\",status=\"200\"} 32", metrics);
                Assert.Contains("ftk_request_duration_seconds_count{endpoint=\"/v1/chat/completions\"} 32", metrics);
                Assert.Contains("ftk_queue_length 0", metrics);
            }
            var rows = RequestLog.Read(log);
            Assert.Equal(32, rows.Count);
            var numbers = rows.Select(r => int.Parse(r.Text!.Split(':')[0]["Request ".Length..])).Order().ToArray();
            Assert.Equal(Enumerable.Range(0, 32).ToArray(), numbers);
            Assert.All(rows, r =>
            {
                Assert.Equal(200, r.Status);
                Assert.DoesNotContain("@example.com", r.Text);
                Assert.True(r.PromptTokens > 0 && r.CompletionTokens > 0 && r.LatencyMs > 0);
                Assert.Equal("base-model", r.Model);
                Assert.Null(r.Adapter);
            });
        }
        finally { try { Directory.Delete(root, true); } catch (IOException) { } }
    }

    [Fact]
    public async Task A_full_queue_answers_503_and_answers_everything_it_accepted()
    {
        var root = Path.Combine(Path.GetTempPath(), "ftk-serve-" + Guid.NewGuid().ToString("N"));
        var log = Path.Combine(root, "requests.db");
        try
        {
            await using (var server = await KitServer.StartAsync(new ServerOptions
                         { ModelDirectory = ServerFixture.SampleModel, Port = 0, LogPath = log, QueueCapacity = 3, MaxBatch = 1, Device = "cpu" }))
            {
                server.Host.Gate.Reset();        // hold the model so that the queue fills
                const string body = "{\"model\": \"base-model\", \"prompt\": \"Hello\", \"max_tokens\": 4, \"temperature\": 0}";
                // the worker waits at the gate before taking anything, so three requests fill the queue
                var accepted = Enumerable.Range(0, 3).Select(_ => Raw(server.Address, "/v1/completions", body)).ToList();
                for (var wait = 0; wait < 1000 && server.Host.QueueLength < 3; wait++) await Task.Delay(10);
                Assert.Equal(3, server.Host.QueueLength);
                var rejected = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Raw(server.Address, "/v1/completions", body)));
                Assert.All(rejected, r =>
                {
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, r.Status);
                    Assert.Equal("queue_full", (string?)r.Error!["code"]);
                    Assert.Equal("1", r.Response.Headers.RetryAfter!.ToString());
                });
                server.Host.Gate.Set();
                var answers = await Task.WhenAll(accepted);
                Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Item1));
            }
            var rows = RequestLog.Read(log);
            Assert.Equal(6, rows.Count);
            Assert.Equal(3, rows.Count(r => r.Status == 200));
            Assert.Equal(3, rows.Count(r => r.Status == 503 && r.Error!.Contains("busy")));
        }
        finally { try { Directory.Delete(root, true); } catch (IOException) { } }
    }

    [Fact]
    public async Task Every_request_is_logged_even_when_it_fails()
    {
        var before = RequestLog.Read(fixture.LogPath).Count;
        await Raw(Server.Address, "/v1/chat/completions", "{\"model\": \"nope\", \"messages\": [{\"role\": \"user\", \"content\": \"call +44 20 7946 0958\"}]}");
        await Raw(Server.Address, "/v1/chat/completions", "{not json");
        // the row is written as the answer completes: give the server a moment
        var rows = RequestLog.Read(fixture.LogPath).Skip(before).ToList();
        for (var wait = 0; wait < 100 && rows.Count < 2; wait++)
        {
            await Task.Delay(20);
            rows = RequestLog.Read(fixture.LogPath).Skip(before).ToList();
        }
        Assert.Equal(2, rows.Count);
        Assert.Equal([404, 400], rows.Select(r => r.Status).ToArray());
        Assert.Equal("nope", rows[0].Model);
        Assert.Contains("does not exist", rows[0].Error);
    }

    [Fact]
    public async Task Health_and_metrics_answer_in_their_formats()
    {
        using var http = new HttpClient { BaseAddress = Server.Address };
        var health = JsonNode.Parse(await http.GetStringAsync("/health"))!;
        Assert.Equal("ok", (string?)health["status"]);
        Assert.Equal(["support", "other"], health["adapters"]!.AsArray().Select(n => (string)n!).ToArray());
        var response = await http.GetAsync("/metrics");
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.ToString());
        var text = await response.Content.ReadAsStringAsync();
        foreach (var name in new[] { "ftk_requests_total", "ftk_prompt_tokens_total", "ftk_completion_tokens_total", "ftk_request_duration_seconds", "ftk_queue_length" })
            Assert.Contains($"# TYPE {name} ", text);
    }

    [Fact]
    public async Task Graceful_shutdown_answers_the_requests_already_accepted()
    {
        var server = await KitServer.StartAsync(new ServerOptions { ModelDirectory = ServerFixture.SampleModel, Port = 0, Device = "cpu" });
        server.Host.Gate.Reset();
        const string body = "{\"model\": \"base-model\", \"prompt\": \"Hello\", \"max_tokens\": 4, \"temperature\": 0}";
        var pending = Enumerable.Range(0, 2).Select(_ => Raw(server.Address, "/v1/completions", body)).ToList();
        for (var wait = 0; wait < 1000 && server.Host.QueueLength < 2; wait++) await Task.Delay(10);
        Assert.Equal(2, server.Host.QueueLength);
        var stopping = server.StopAsync();          // the host stops listening and waits for the two in flight
        await Task.Delay(200);
        Assert.False(stopping.IsCompleted);
        server.Host.Gate.Set();
        await stopping.WaitAsync(TimeSpan.FromMinutes(2));
        var answers = await Task.WhenAll(pending);
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
    }

    [Fact]
    public async Task A_request_not_answered_in_time_gets_504_and_is_logged()
    {
        var root = Path.Combine(Path.GetTempPath(), "ftk-serve-" + Guid.NewGuid().ToString("N"));
        var log = Path.Combine(root, "requests.db");
        try
        {
            await using (var server = await KitServer.StartAsync(new ServerOptions
                         { ModelDirectory = ServerFixture.SampleModel, Port = 0, LogPath = log, RequestTimeout = TimeSpan.FromSeconds(1), Device = "cpu" }))
            {
                server.Host.Gate.Reset();
                var (status, error, _) = await Raw(server.Address, "/v1/completions", "{\"model\": \"base-model\", \"prompt\": \"Hello\", \"max_tokens\": 4}");
                Assert.Equal(HttpStatusCode.GatewayTimeout, status);
                Assert.Equal("timeout", (string?)error!["code"]);
                server.Host.Gate.Set();
            }
            var row = Assert.Single(RequestLog.Read(log));
            Assert.Equal(504, row.Status);
        }
        finally { try { Directory.Delete(root, true); } catch (IOException) { } }
    }

    [Fact]
    public async Task Classify_requests_are_logged_with_label_and_probability()
    {
        var before = RequestLog.Read(fixture.LogPath).Count;
        var (status, _, response) = await Raw(Server.Address, "/v1/classify", "{\"model\": \"support\", \"input\": \"My card was charged twice\"}");
        Assert.Equal(HttpStatusCode.OK, status);
        var data = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["data"]![0]!;
        var rows = RequestLog.Read(fixture.LogPath).Skip(before).ToList();
        for (var wait = 0; wait < 100 && rows.Count < 1; wait++)
        {
            await Task.Delay(20);
            rows = RequestLog.Read(fixture.LogPath).Skip(before).ToList();
        }
        var row = Assert.Single(rows);
        Assert.Equal((string?)data["label"], row.Label);
        Assert.Equal((double)data["probabilities"]![row.Label!]!, row.Probability!.Value, 9);
        Assert.Equal("support", row.Adapter);
    }
}
