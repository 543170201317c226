using FineTune.Kit.Models;
using FineTune.Kit.Serving;
using FineTune.Kit.Text;
using Microsoft.Extensions.AI;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace FineTune.Kit.Tests.Serving;

/// <summary>The kit's model behind IChatClient answers as Generate does, streamed or not.</summary>
public class KitChatClientTests
{
    private static readonly string SampleModel =
        Path.Combine(RepoFiles.Root, "data", "sample", "base-model");

    private static readonly AiChatMessage[] Conversation =
    [
        new(ChatRole.System, "You answer customer support tickets."),
        new(ChatRole.User, "My parcel never arrived and the tracking page is empty."),
    ];

    [Fact]
    public async Task AnswerIsGenerateGreedyAndStreamingConcatenatesToIt()
    {
        using var model = CausalLM.Load(SampleModel, new LoadOptions { Device = "cpu" });
        using IChatClient client = new KitChatClient(model);
        var tok = model.RequireTokenizer();

        // what Generate gives for the same rendered prompt, stopping at the end of the assistant turn
        var prompt = ChatTemplate.ChatMl.Encode(tok, Conversation.Select(m => new FineTune.Kit.Data.ChatMessage(m.Role.Value, m.Text)).ToList(), addGenerationPrompt: true);
        var expectedIds = model.Generate([prompt.Ids.Select(i => (long)i).ToList()],
            new GenerationOptions { MaxNewTokens = 24, StopTokens = [tok.TokenToId("<|im_end|>")!.Value] })[0];
        var expected = tok.Decode(expectedIds.Select(i => (int)i), skipSpecialTokens: true);
        Assert.False(string.IsNullOrWhiteSpace(expected));

        var response = await client.GetResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 24 });
        Assert.Equal(expected, response.Text);
        Assert.Equal(ChatRole.Assistant, response.Messages.Single().Role);
        Assert.Equal(prompt.Ids.Count, response.Usage!.InputTokenCount);
        Assert.Equal(expectedIds.Length, response.Usage.OutputTokenCount);
        Assert.Equal(expectedIds.Length == 24 ? ChatFinishReason.Length : ChatFinishReason.Stop, response.FinishReason);

        var chunks = new List<string>();
        await foreach (var update in client.GetStreamingResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 24 }))
            if (update.Text.Length > 0) chunks.Add(update.Text);
        Assert.True(chunks.Count > 3, $"only {chunks.Count} chunks: the answer was not streamed");
        Assert.Equal(expected, string.Concat(chunks));
    }

    /// <summary>The model exported to GGUF answers the same conversation in llama.cpp with the same text.</summary>
    [Theory]
    [InlineData(GgufFileType.F32)]
    [InlineData(GgufFileType.Q8_0)]
    public async Task ExportedModelAnswersTheSameThroughLlamaCpp(GgufFileType type)
    {
        using var model = CausalLM.Load(SampleModel, new LoadOptions { Device = "cpu" });
        var path = Path.Combine(TempFolder.Fresh(), "sample.gguf");
        GgufExporter.Export(model, path, type);
        using IChatClient kit = new KitChatClient(model);
        using IChatClient cpp = new LlamaCppChatClient(path, ChatTemplate.ChatMl);
        var options = new ChatOptions { MaxOutputTokens = 24 };
        var expected = (await kit.GetResponseAsync(Conversation, options)).Text;
        Assert.Equal(expected, (await cpp.GetResponseAsync(Conversation, options)).Text);
    }

    [Fact]
    public async Task CancellingAStreamStopsGenerationAndFreesTheClient()
    {
        using var model = CausalLM.Load(SampleModel, new LoadOptions { Device = "cpu" });
        using var client = new KitChatClient(model);
        using var cancel = new CancellationTokenSource();
        int chunks = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 200 }, cancel.Token))
                if (update.Text.Length > 0 && ++chunks == 1) cancel.Cancel();
        });
        Assert.Equal(1, chunks);
        // the next request is served (the first one released the model)
        var answer = await client.GetResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 5 }).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(5, answer.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task StopSequencesCutTheAnswerStreamedOrNot()
    {
        using var model = CausalLM.Load(SampleModel, new LoadOptions { Device = "cpu" });
        using var client = new KitChatClient(model);
        var full = (await client.GetResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 24 })).Text;
        // stop at the second word of the full answer: the reply must end right before it
        var words = full.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(words.Length >= 3, $"answer too short to test stops: '{full}'");
        var stop = " " + words[1];
        var cut = full[..full.IndexOf(stop, StringComparison.Ordinal)];
        var options = new ChatOptions { MaxOutputTokens = 24, StopSequences = [stop] };
        var response = await client.GetResponseAsync(Conversation, options);
        Assert.Equal(cut, response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        var streamed = new List<string>();
        await foreach (var update in client.GetStreamingResponseAsync(Conversation, options)) streamed.Add(update.Text);
        Assert.Equal(cut, string.Concat(streamed));
    }

    [Fact]
    public async Task SamplingOptionsMapAndTheSeedRepeats()
    {
        using var model = CausalLM.Load(SampleModel, new LoadOptions { Device = "cpu" });
        using var client = new KitChatClient(model);
        var mapped = client.ToGenerationOptions(new ChatOptions { MaxOutputTokens = 7, Temperature = 0.8f, TopP = 0.9f, TopK = 5, Seed = 42 });
        Assert.Equal((7, 0.8, 0.9, 5, 42L), (mapped.MaxNewTokens, Math.Round(mapped.Temperature, 6), Math.Round(mapped.TopP, 6), mapped.TopK, mapped.Seed));
        var sampled = new ChatOptions { MaxOutputTokens = 12, Temperature = 1.0f, Seed = 3 };
        var a = (await client.GetResponseAsync(Conversation, sampled)).Text;
        var b = (await client.GetResponseAsync(Conversation, sampled)).Text;
        Assert.Equal(a, b);
        var greedy = (await client.GetResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 12 })).Text;
        var others = new List<string>();
        foreach (var seed in new long[] { 4, 5, 6 })
            others.Add((await client.GetResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 12, Temperature = 1.0f, Seed = seed })).Text);
        Assert.Contains(others.Append(a), t => t != greedy);   // temperature reached the sampler
        Assert.True(others.Append(a).Distinct().Count() > 1, "every seed gave the same text: the seed is not used");
        Assert.Equal(12, (await client.GetResponseAsync(Conversation, sampled)).Usage!.OutputTokenCount);
    }

    [Theory]
    [InlineData(0, null, null)]
    [InlineData(null, -0.5f, null)]
    [InlineData(null, null, 1.5f)]
    public async Task OutOfRangeOptionsAreRefused(int? maxTokens, float? temperature, float? topP)
    {
        using var model = CausalLM.Load(SampleModel, new LoadOptions { Device = "cpu" });
        using var client = new KitChatClient(model);
        await Assert.ThrowsAsync<ArgumentException>(() =>
            client.GetResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = maxTokens, Temperature = temperature, TopP = topP }));
    }

    [Fact]
    public void MetadataAndTemplateComeFromTheModel()
    {
        using var model = CausalLM.Load(SampleModel, new LoadOptions { Device = "cpu" });
        using var client = new KitChatClient(model);
        Assert.Same(ChatTemplate.ChatMl, client.Template);
        Assert.Equal("base-model", client.GetService<ChatClientMetadata>()!.DefaultModelId);
        Assert.Same(model, client.GetService<CausalLM>());
    }
}
