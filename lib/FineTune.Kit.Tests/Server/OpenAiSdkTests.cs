using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Monitoring;
using FineTune.Kit.Prompting;
using FineTune.Kit.Server;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using KitChat = FineTune.Kit.Data.ChatMessage;

namespace FineTune.Kit.Tests.Server;

/// <summary>The server as the official OpenAI .NET SDK and Microsoft.Extensions.AI see it, over a loopback port.</summary>
public sealed class OpenAiSdkTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const string Question = "My parcel never arrived. Where is it?";
    private KitServer Server => fixture.Server;

    private OpenAIClient Client(string key = "no-key") =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(Server.Address, "/v1"), NetworkTimeout = TimeSpan.FromMinutes(5) });

    private static readonly ChatCompletionOptions Greedy = new() { Temperature = 0, MaxOutputTokenCount = 24 };

    /// <summary>What the kit itself generates for the question, greedily, with or without an adapter.</summary>
    private static string Expected(string? adapterDir, int maxTokens = 24)
    {
        using var model = CausalLM.Load(ServerFixture.SampleModel, new LoadOptions { Device = "cpu" });
        if (adapterDir is not null) model.LoadAdapter(adapterDir);
        var tokenizer = model.RequireTokenizer();
        var ids = FineTune.Kit.Text.ChatTemplate.ChatMl.Encode(tokenizer, [KitChat.User(Question)], addGenerationPrompt: true).Ids.Select(i => (long)i).ToArray();
        var output = model.Generate([ids], new GenerationOptions { MaxNewTokens = maxTokens, StopTokens = [tokenizer.TokenToId("<|im_end|>")!.Value] });
        return tokenizer.Decode(output[0].Select(t => (int)t), skipSpecialTokens: true);
    }

    [Fact]
    public async Task Models_lists_the_base_and_every_adapter()
    {
        var models = (await Client().GetOpenAIModelClient().GetModelsAsync()).Value;
        Assert.Equal(["base-model", "support", "other"], models.Select(m => m.Id).ToArray());
    }

    [Fact]
    public async Task Chat_answers_what_the_kit_generates_and_streaming_joins_to_the_same_text()
    {
        var chat = Client().GetChatClient("base-model");
        ChatCompletion completion = (await chat.CompleteChatAsync([new UserChatMessage(Question)], Greedy)).Value;
        var text = completion.Content[0].Text;
        Assert.Equal(Expected(null), text);
        Assert.NotEmpty(text);
        Assert.True(completion.Usage.InputTokenCount > 5);
        Assert.InRange(completion.Usage.OutputTokenCount, 1, 24);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);

        var streamed = new StringBuilder();
        var updates = 0;
        OpenAI.Chat.ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage(Question)], Greedy))
        {
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
            finish ??= update.FinishReason;
            updates++;
        }
        Assert.Equal(text, streamed.ToString());
        Assert.True(updates > 3, $"only {updates} streamed updates");
        Assert.Equal(completion.FinishReason, finish);
    }

    [Fact]
    public async Task Microsoft_Extensions_AI_client_gets_the_same_answers()
    {
        IChatClient ai = Client().GetChatClient("support").AsIChatClient();
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 24 };
        var response = await ai.GetResponseAsync(Question, options);
        var expected = Expected(fixture.SupportAdapter);
        Assert.Equal(expected, response.Text);
        var streamed = new StringBuilder();
        await foreach (var update in ai.GetStreamingResponseAsync(Question, options)) streamed.Append(update.Text);
        Assert.Equal(expected, streamed.ToString());
    }

    [Fact]
    public async Task Adapters_are_applied_per_request_and_never_change_the_base()
    {
        var client = Client();
        async Task<string> Ask(string model) =>
            (await client.GetChatClient(model).CompleteChatAsync([new UserChatMessage(Question)], Greedy)).Value.Content[0].Text;
        var before = await Ask("base-model");
        var support = await Ask("support");
        var other = await Ask("other");
        var after = await Ask("base-model");
        Assert.Equal(before, after);
        Assert.Equal(Expected(fixture.SupportAdapter), support);
        Assert.Equal(Expected(fixture.OtherAdapter), other);
        Assert.NotEqual(before, support);
        Assert.NotEqual(support, other);
    }

    [Fact]
    public async Task Completions_continue_the_prompt_like_Generate()
    {
        using var http = new HttpClient { BaseAddress = Server.Address };
        var body = new JsonObject { ["model"] = "base-model", ["prompt"] = "Ticket: my card was charged twice", ["max_tokens"] = 12, ["temperature"] = 0 };
        var response = await http.PostAsync("/v1/completions", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("text_completion", (string?)json["object"]);
        using var model = CausalLM.Load(ServerFixture.SampleModel, new LoadOptions { Device = "cpu" });
        var tokenizer = model.RequireTokenizer();
        var ids = tokenizer.Encode("Ticket: my card was charged twice").Select(i => (long)i).ToArray();
        var expected = tokenizer.Decode(model.Generate([ids], new GenerationOptions { MaxNewTokens = 12 })[0].Select(t => (int)t), skipSpecialTokens: true);
        Assert.Equal(expected, (string?)json["choices"]![0]!["text"]);
        Assert.Equal(ids.Length, (int)json["usage"]!["prompt_tokens"]!);

        body["stream"] = true;
        response = await http.PostAsync("/v1/completions", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        var joined = string.Concat(events[..^1].Select(e => (string?)JsonNode.Parse(e["data: ".Length..])!["choices"]![0]!["text"]));
        Assert.Equal(expected, joined);
    }

    [Fact]
    public async Task Stop_strings_cut_the_text_and_n_gives_several_choices()
    {
        using var http = new HttpClient { BaseAddress = Server.Address };
        var free = await Post(http, "/v1/completions", new JsonObject { ["model"] = "base-model", ["prompt"] = "Hello", ["max_tokens"] = 16, ["temperature"] = 0 });
        var text = (string)free["choices"]![0]!["text"]!;
        var stop = text.Trim().Split(' ')[0];
        Assert.NotEmpty(stop);
        var cut = await Post(http, "/v1/completions", new JsonObject { ["model"] = "base-model", ["prompt"] = "Hello", ["max_tokens"] = 16, ["temperature"] = 0, ["stop"] = stop });
        Assert.Equal(text[..text.IndexOf(stop, StringComparison.Ordinal)], (string)cut["choices"]![0]!["text"]!);
        Assert.Equal("stop", (string)cut["choices"]![0]!["finish_reason"]!);

        var sampled = await Post(http, "/v1/completions", new JsonObject
            { ["model"] = "base-model", ["prompt"] = "Hello", ["max_tokens"] = 8, ["temperature"] = 1.0, ["seed"] = 7, ["n"] = 3 });
        Assert.Equal(3, sampled["choices"]!.AsArray().Count);
        var again = await Post(http, "/v1/completions", new JsonObject
            { ["model"] = "base-model", ["prompt"] = "Hello", ["max_tokens"] = 8, ["temperature"] = 1.0, ["seed"] = 7, ["n"] = 3 });
        Assert.Equal(sampled["choices"]!.ToJsonString(), again["choices"]!.ToJsonString());
    }

    internal static async Task<(HttpStatusCode Status, JsonNode Json)> Send(HttpClient http, string path, JsonObject body)
    {
        var response = await http.PostAsync(path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    private static async Task<JsonNode> Post(HttpClient http, string path, JsonObject body)
    {
        var (status, json) = await Send(http, path, body);
        Assert.True(status == HttpStatusCode.OK, json.ToJsonString());
        return json;
    }

    [Fact]
    public async Task Classify_uses_the_adapters_prompt_json()
    {
        using var http = new HttpClient { BaseAddress = Server.Address };
        const string ticket = "I was charged twice for my subscription this month.";
        var json = await Post(http, "/v1/classify", new JsonObject { ["model"] = "support", ["input"] = ticket });
        var first = json["data"]![0]!;
        using var model = CausalLM.Load(ServerFixture.SampleModel, new LoadOptions { Device = "cpu" });
        model.LoadAdapter(fixture.SupportAdapter);
        var expected = model.Classifier(PromptFile.Load(fixture.SupportAdapter)).Classify(ticket);
        Assert.Equal(expected.Label, (string?)first["label"]);
        foreach (var label in ServerFixture.Labels)
            Assert.Equal(expected.Probabilities[label], (double)first["probabilities"]![label]!, 5);

        var (status, error) = await Send(http, "/v1/classify", new JsonObject { ["model"] = "other", ["input"] = ticket });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("no_prompt", (string?)error["error"]!["code"]);
        Assert.Contains("prompt.json", (string?)error["error"]!["message"]);
    }
}
