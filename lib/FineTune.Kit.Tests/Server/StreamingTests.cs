using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using FineTune.Kit.Server;
using OpenAI;
using OpenAI.Chat;

namespace FineTune.Kit.Tests.Server;

/// <summary>
/// Streams are sent while the model generates, not after: the model's thread is held part way through an answer
/// until the client has read a piece of it (with the OpenAI SDK's streaming client on the other end).
/// </summary>
public sealed class StreamingTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const string Question = "My parcel never arrived. Where is it?";
    private KitServer Server => fixture.Server;

    private ChatClient Chat(string model = "base-model") =>
        new OpenAIClient(new ApiKeyCredential("no-key"), new OpenAIClientOptions { Endpoint = new Uri(Server.Address, "/v1"), NetworkTimeout = TimeSpan.FromMinutes(5) })
            .GetChatClient(model);

    [Fact]
    public async Task Chat_chunks_reach_the_client_while_the_model_is_still_generating()
    {
        const int holdAt = 3;
        using var clientHasText = new ManualResetEventSlim(false);
        bool? readBeforeStepFinished = null;
        var stepsAtFirstText = -1;
        var stepsDone = 0;
        Server.Host.StepHook = step =>
        {
            Volatile.Write(ref stepsDone, step + 1);
            // a buffered stream sends nothing before generation ends, so the wait would run out
            if (step == holdAt) readBeforeStepFinished = clientHasText.Wait(TimeSpan.FromSeconds(30));
        };
        try
        {
            var streamed = new StringBuilder();
            await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage(Question)],
                               new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 24 }))
            {
                foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
                if (streamed.Length > 0 && !clientHasText.IsSet)
                {
                    stepsAtFirstText = Volatile.Read(ref stepsDone);
                    clientHasText.Set();
                }
            }
            Assert.True(readBeforeStepFinished, "the first piece of text did not reach the client while generation was held");
            Assert.InRange(stepsAtFirstText, 1, holdAt + 1);
            Assert.True(Volatile.Read(ref stepsDone) > holdAt + 1, $"generation ended after {stepsDone} steps; the hold point was not passed");
            var whole = (await Chat().CompleteChatAsync([new UserChatMessage(Question)],
                new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 24 })).Value.Content[0].Text;
            Assert.Equal(whole, streamed.ToString());
        }
        finally
        {
            Server.Host.StepHook = null;
        }
    }

    [Fact]
    public async Task Completion_chunks_reach_the_client_while_the_model_is_still_generating()
    {
        using var clientHasText = new ManualResetEventSlim(false);
        bool? readBeforeStepFinished = null;
        Server.Host.StepHook = step =>
        {
            if (step == 2) readBeforeStepFinished = clientHasText.Wait(TimeSpan.FromSeconds(30));
        };
        try
        {
            using var http = new HttpClient { BaseAddress = Server.Address };
            var body = new JsonObject { ["model"] = "base-model", ["prompt"] = "Ticket: my card was charged twice", ["max_tokens"] = 12, ["temperature"] = 0, ["stream"] = true };
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            var text = new StringBuilder();
            while (await reader.ReadLineAsync() is { } line)
            {
                if (!line.StartsWith("data: {")) continue;
                text.Append((string?)JsonNode.Parse(line["data: ".Length..])!["choices"]![0]!["text"]);
                if (text.Length > 0) clientHasText.Set();
            }
            Assert.True(readBeforeStepFinished, "no completion text reached the client while generation was held");
        }
        finally
        {
            Server.Host.StepHook = null;
        }
    }

    [Fact]
    public async Task A_streamed_stop_sequence_is_held_back_cut_and_ends_generation()
    {
        using var http = new HttpClient { BaseAddress = Server.Address };
        var body = new JsonObject { ["model"] = "base-model", ["prompt"] = "Hello", ["max_tokens"] = 24, ["temperature"] = 0 };
        var (_, free) = await OpenAiSdkTests.Send(http, "/v1/completions", body);
        var full = (string)free["choices"]![0]!["text"]!;
        // a stop sequence of two words from the middle: its first word must be held back, not sent, until the second decides
        var words = full.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(words.Length >= 5, $"the model said too little to cut: '{full}'");
        var stop = words[2] + " " + words[3];
        body["stop"] = stop;
        var (_, cut) = await OpenAiSdkTests.Send(http, "/v1/completions", body);
        var expected = (string)cut["choices"]![0]!["text"]!;
        Assert.Equal(full[..full.IndexOf(stop, StringComparison.Ordinal)], expected);

        body["stream"] = true;
        body["stream_options"] = new JsonObject { ["include_usage"] = true };
        var events = await Events(http, "/v1/completions", body);
        var pieces = events.Where(e => e["choices"]!.AsArray().Count > 0).ToList();
        Assert.Equal(expected, string.Concat(pieces.Select(e => (string?)e["choices"]![0]!["text"])));
        Assert.Equal("stop", (string?)pieces[^1]["choices"]![0]!["finish_reason"]);
        // generation ended at the stop sequence instead of running on to max_tokens as the whole answer did
        var streamedTokens = (int)events[^1]["usage"]!["completion_tokens"]!;
        Assert.True(streamedTokens < (int)cut["usage"]!["completion_tokens"]!, $"{streamedTokens} tokens streamed");
    }

    [Fact]
    public async Task Several_streamed_choices_each_join_to_their_own_answer()
    {
        using var http = new HttpClient { BaseAddress = Server.Address };
        var body = new JsonObject { ["model"] = "support", ["prompt"] = "Hello", ["max_tokens"] = 10, ["temperature"] = 1.0, ["seed"] = 11, ["n"] = 3 };
        var (status, whole) = await OpenAiSdkTests.Send(http, "/v1/completions", body);
        Assert.Equal(HttpStatusCode.OK, status);
        body["stream"] = true;
        var events = await Events(http, "/v1/completions", body);
        for (var i = 0; i < 3; i++)
        {
            var mine = events.Select(e => e["choices"]![0]!).Where(c => (int)c["index"]! == i).ToList();
            Assert.Equal((string?)whole["choices"]![i]!["text"], string.Concat(mine.Select(c => (string?)c["text"])));
            Assert.Equal((string?)whole["choices"]![i]!["finish_reason"], (string?)mine[^1]["finish_reason"]);
        }
    }

    [Fact]
    public async Task An_unknown_model_is_404_model_not_found_through_the_SDK_streaming_too()
    {
        var e = await Assert.ThrowsAsync<ClientResultException>(async () =>
        {
            await foreach (var _ in Chat("gpt-4o").CompleteChatStreamingAsync([new UserChatMessage("hi")])) { }
        });
        Assert.Equal(404, e.Status);
        var error = JsonNode.Parse(e.GetRawResponse()!.Content.ToString())!["error"]!;
        Assert.Equal("model_not_found", (string?)error["code"]);
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.Contains("gpt-4o", (string?)error["message"]);
    }

    private static async Task<List<JsonNode>> Events(HttpClient http, string path, JsonObject body)
    {
        var response = await http.PostAsync(path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        return events[..^1].Select(e => JsonNode.Parse(e["data: ".Length..])!).ToList();
    }
}
