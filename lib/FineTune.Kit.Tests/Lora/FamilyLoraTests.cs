using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Kit.Tests.Lora;

/// <summary>LoRA on Qwen3, Phi-3 (fused projections wrapped whole, as PEFT wraps them) and Gemma.</summary>
public class FamilyLoraTests
{
    private static readonly long[] Ids = [3, 17, 5, 22, 0, 9, 9, 14];

    private static void RandomizeB(LoraAdapter adapter, long seed = 11)
    {
        var g = new Generator((ulong)seed);
        using var _ = no_grad();
        foreach (var l in adapter.Layers.Values) l.lora_B.weight!.normal_(0, 0.5, g);
    }

    [Theory]
    [InlineData("qwen3", new[] { "q_proj", "k_proj", "v_proj", "o_proj" })]
    [InlineData("qwen3", new[] { "all-linear" })]
    [InlineData("phi3", new[] { "qkv_proj", "gate_up_proj" })]
    [InlineData("phi3", new[] { "all-linear" })]
    [InlineData("gemma3", new[] { "all-linear" })]
    [InlineData("gemma2", new[] { "q_proj", "gate_proj", "down_proj" })]
    public void Merging_equals_the_unmerged_forward(string family, string[] targets)
    {
        using var model = TinyModels.Random(TinyModels.ByName(family));
        var before = model.Logits(Ids);
        var adapter = model.AddLora(r: 4, alpha: 8, targets: targets, dropout: 0);
        Assert.Equal(before, model.Logits(Ids));
        RandomizeB(adapter);
        var unmerged = model.Logits(Ids);
        Assert.True(ModelAssert.MaxDifference(before, unmerged) > 1e-3, "the adapter did not change the logits");
        adapter.Merge();
        var merged = model.Logits(Ids);
        Assert.True(ModelAssert.MaxDifference(unmerged, merged) < 1e-4, $"merged differs by {ModelAssert.MaxDifference(unmerged, merged):G3}");
        adapter.Unmerge();
        adapter.SetEnabled(false);
        Assert.True(ModelAssert.MaxDifference(before, model.Logits(Ids)) < 1e-4);
    }

    [Theory]
    [InlineData("qwen3", new[] { "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj" })]
    [InlineData("phi3", new[] { "qkv_proj", "o_proj", "gate_up_proj", "down_proj" })]
    [InlineData("gemma3", new[] { "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj" })]
    public void All_linear_wraps_every_projection_but_the_head(string family, string[] expected)
    {
        using var model = TinyModels.Random(TinyModels.ByName(family));
        var adapter = model.AddLora(r: 2, targets: ["all-linear"], dropout: 0);
        var names = adapter.Layers.Keys.Select(k => k[(k.LastIndexOf('.') + 1)..]).Distinct().Order().ToArray();
        Assert.Equal(expected.Order().ToArray(), names);
        Assert.Equal(expected.Length * model.Config.NumLayers, adapter.Layers.Count);
    }

    [Fact]
    public void Lora_on_fused_phi3_layers_equals_the_reference_of_the_merged_weights()
    {
        // unmerged forward (base + B·A path) against the naive reference over weights with the update added by hand
        using var model = TinyModels.Sharpened(TinyModels.Random(TinyModels.Phi3()));
        var adapter = model.AddLora(r: 4, alpha: 8, targets: ["qkv_proj", "gate_up_proj"], dropout: 0);
        RandomizeB(adapter);
        var unmerged = model.Logits(Ids);
        using var plain = TinyModels.Sharpened(TinyModels.Random(TinyModels.Phi3()));
        var weights = plain.Module.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using (no_grad())
            foreach (var (path, layer) in adapter.Layers)
                weights[path + ".weight"].add_(layer.lora_B.weight!.matmul(layer.lora_A.weight!) * (8.0 / 4));
        var expected = ReferenceForward.Logits(plain, Ids);
        for (int t = 0; t < Ids.Length; t++)
            for (int v = 0; v < unmerged[t].Length; v++)
                Assert.True(Math.Abs(expected[t][v] - unmerged[t][v]) < 1e-5, $"t={t} v={v}");
    }

    [Theory]
    [InlineData("phi3", new[] { "qkv_proj", "gate_up_proj" }, "model.layers.0.self_attn.qkv_proj", 64L)]
    [InlineData("phi3", new[] { "qkv_proj", "gate_up_proj" }, "model.layers.1.mlp.gate_up_proj", 48L)]
    [InlineData("qwen3", new[] { "q_proj", "v_proj" }, "model.layers.0.self_attn.q_proj", 32L)]
    [InlineData("gemma3", new[] { "all-linear" }, "model.layers.2.mlp.down_proj", 16L)]
    [InlineData("gemma2", new[] { "all-linear" }, "model.layers.1.self_attn.o_proj", 16L)]
    public void Adapters_save_in_the_peft_layout_load_back_and_merge_into_a_plain_checkpoint(string family, string[] targets, string module, long outFeatures)
    {
        using var model = TinyModels.Random(TinyModels.ByName(family));
        var adapter = model.AddLora(r: 4, alpha: 16, targets: targets, dropout: 0);
        RandomizeB(adapter);
        var adapted = model.Logits(Ids);
        var dir = TempFolder.Fresh();
        adapter.Save(dir);

        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "adapter_config.json")))!;
        var savedTargets = config["target_modules"]!;
        if (targets is ["all-linear"]) Assert.Equal("all-linear", savedTargets.GetValue<string>());
        else Assert.Equal(targets, savedTargets.AsArray().Select(n => n!.GetValue<string>()).ToArray());
        var file = SafeTensorFile.Open(Path.Combine(dir, "adapter_model.safetensors"));
        var aKey = $"base_model.model.{module}.lora_A.weight";
        long inFeatures = ((TorchSharp.Modules.Linear)adapter.Layers[module].base_layer).weight!.shape[1];
        Assert.Equal([4, inFeatures], file.Entries[aKey].Shape);
        Assert.Equal([outFeatures, 4], file.Entries[aKey.Replace("lora_A", "lora_B")].Shape);

        using var fresh = TinyModels.Random(TinyModels.ByName(family));
        fresh.LoadAdapter(dir);
        Assert.Equal(adapted, fresh.Logits(Ids));

        adapter.MergeAndUnload();
        var plain = TempFolder.Fresh();
        model.Save(plain);
        using var loaded = CausalLM.Load(plain, new LoadOptions { Device = "cpu" });
        Assert.DoesNotContain(SafeTensorFile.Open(Path.Combine(plain, "model.safetensors")).Entries.Keys, k => k.Contains("lora") || k.Contains("base_layer"));
        Assert.True(ModelAssert.MaxDifference(adapted, loaded.Logits(Ids)) < 1e-4);
    }
}
