using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Prompting;
using FineTune.Kit.Server;
using FineTune.Kit.Tests.Build;
using static TorchSharp.torch;

namespace FineTune.Kit.Tests.Server;

/// <summary>
/// The sample base model served on a loopback port with two LoRA adapters made for the test (random B, so each
/// changes the model's output) and a request log. One server for the tests of a class; tests that need other settings
/// start their own.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public static string SampleModel => Path.Combine(RepoFiles.Root, "data", "sample", "base-model");
    public static readonly string[] Labels = ["billing", "shipping_delay", "technical_issue"];
    public static readonly PromptTemplate Template = PromptTemplate.WithInstruction("Classify the support ticket.")
        .WithInputPrefix("Ticket: ").WithOutputPrefix("Intent:").WithLabels(Labels);

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "ftk-serve-" + Guid.NewGuid().ToString("N"));
    public string SupportAdapter => Path.Combine(Root, "support");
    public string OtherAdapter => Path.Combine(Root, "other");
    public string LogPath => Path.Combine(Root, "requests.db");
    public KitServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        MakeAdapter(SupportAdapter, seed: 1, withPrompt: true);
        MakeAdapter(OtherAdapter, seed: 2, withPrompt: false);
        Server = await KitServer.StartAsync(new ServerOptions
        {
            ModelDirectory = SampleModel, Adapters = [("support", SupportAdapter), ("other", OtherAdapter)], Host = "127.0.0.1", Port = 0,
            LogPath = LogPath, Device = "cpu",
        });
    }

    /// <summary>A LoRA adapter on q_proj and v_proj whose B is random, so it visibly changes what the model says.</summary>
    public static void MakeAdapter(string dir, int seed, bool withPrompt)
    {
        using var model = CausalLM.Load(SampleModel, new LoadOptions { Device = "cpu" });
        var adapter = model.AddLora(r: 4, alpha: 8, targets: ["q_proj", "v_proj"], seed: seed);
        var generator = new Generator((ulong)seed);
        using (no_grad())
            foreach (var layer in adapter.Layers.Values) layer.lora_B.weight!.normal_(0, 0.3, generator);
        adapter.Save(dir);
        if (withPrompt) PromptFile.Save(Template, dir);
    }

    public async Task DisposeAsync()
    {
        await Server.StopAsync();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
