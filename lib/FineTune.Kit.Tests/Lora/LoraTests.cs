using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Kit.Tests.Lora;

public class LoraTests
{
    private static readonly long[] Ids = [3, 17, 5, 22, 0, 9];

    private static void RandomizeB(LoraAdapter adapter, long seed = 11)
    {
        var g = new Generator((ulong)seed);
        using var _ = no_grad();
        foreach (var l in adapter.Layers.Values) l.lora_B.weight!.normal_(0, 0.5, g);
    }

    [Theory]
    [InlineData("llama", new[] { "q_proj", "v_proj" })]
    [InlineData("gpt2", new[] { "c_attn", "c_proj" })]
    [InlineData("qwen2", new[] { "all-linear" })]
    public void A_fresh_adapter_changes_nothing_and_merging_equals_the_unmerged_forward(string family, string[] targets)
    {
        using var model = TinyModels.Random(TinyModels.ByName(family));
        var before = model.Logits(Ids);
        var adapter = model.AddLora(r: 4, alpha: 8, targets: targets, dropout: 0);
        Assert.Equal(before, model.Logits(Ids));

        RandomizeB(adapter);
        var unmerged = model.Logits(Ids);
        Assert.NotEqual(before[^1], unmerged[^1]);
        adapter.Merge();
        var merged = model.Logits(Ids);
        for (int t = 0; t < Ids.Length; t++)
            for (int v = 0; v < unmerged[t].Length; v++) Assert.True(Math.Abs(unmerged[t][v] - merged[t][v]) < 1e-4);
        adapter.Unmerge();
        var again = model.Logits(Ids);
        for (int v = 0; v < again[^1].Length; v++) Assert.True(Math.Abs(unmerged[^1][v] - again[^1][v]) < 1e-4);
        adapter.SetEnabled(false);
        var off = model.Logits(Ids);
        for (int v = 0; v < off[^1].Length; v++) Assert.True(Math.Abs(before[^1][v] - off[^1][v]) < 1e-4);
    }

    [Fact]
    public void The_update_is_scaling_times_B_A_with_rslora_scaling_too()
    {
        using var model = TinyModels.Random(TinyModels.Llama());
        var adapter = model.AddLora(r: 4, alpha: 8, targets: ["q_proj"], dropout: 0, rsLora: true);
        var layer = adapter.Layers["model.layers.0.self_attn.q_proj"];
        Assert.Equal(8 / Math.Sqrt(4), layer.Scaling, 12);
        RandomizeB(adapter);
        using var x = randn(3, 16);
        using var baseOut = layer.base_layer.call(x);
        using var expected = baseOut + x.matmul(layer.lora_A.weight!.t()).matmul(layer.lora_B.weight!.t()) * layer.Scaling;
        using var actual = layer.call(x);
        Assert.True(actual.allclose(expected, atol: 1e-5));
    }

    [Fact]
    public void Gradients_reach_only_the_adapter_and_modules_to_save()
    {
        using var model = TinyModels.Random(TinyModels.Llama());
        var adapter = model.AddLora(r: 2, targets: ["q_proj", "v_proj"], modulesToSave: ["lm_head"]);
        RandomizeB(adapter);
        using var ids = tensor(Ids).unsqueeze(0);
        using var output = model.Forward(ids);
        output.Logits.sum().backward();
        foreach (var (name, p) in model.Module.named_parameters())
        {
            bool shouldTrain = name.Contains("lora_") || name.StartsWith("lm_head");
            Assert.Equal(shouldTrain, p.requires_grad);
            if (shouldTrain) Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0, name);
            else Assert.True(p.grad is null, name);
        }
        Assert.Equal(2L * (2 * 16 + 16 * 2) * 2 + 23 * 16 /* q_proj out 16, v_proj out 8 */ - 2 * 2 * 8, adapter.TrainableParameters);
        Assert.Contains("trainable params", adapter.Summary());
    }

    [Theory]
    [InlineData("llama", "q_proj", "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")]
    [InlineData("gpt2", "c_attn", "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight")]
    public void Adapters_save_in_the_peft_layout_and_load_back(string family, string target, string firstKey)
    {
        using var model = TinyModels.Random(TinyModels.ByName(family));
        var adapter = model.AddLora(r: 4, alpha: 16, targets: [target], dropout: 0);
        RandomizeB(adapter);
        var adapted = model.Logits(Ids);
        var dir = TempFolder.Fresh();
        adapter.Save(dir);

        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "adapter_config.json")))!;
        Assert.Equal("LORA", config["peft_type"]!.GetValue<string>());
        Assert.Equal("CAUSAL_LM", config["task_type"]!.GetValue<string>());
        Assert.Equal(4, config["r"]!.GetValue<int>());
        Assert.Equal(family == "gpt2", config["fan_in_fan_out"]!.GetValue<bool>());
        var file = SafeTensorFile.Open(Path.Combine(dir, "adapter_model.safetensors"));
        Assert.Equal([4, 16], file.Entries[firstKey].Shape);
        var bKey = firstKey.Replace("lora_A", "lora_B");
        Assert.Equal(family == "gpt2" ? [48, 4] : new long[] { 16, 4 }, file.Entries[bKey].Shape);
        Assert.Equal(2 * model.Config.NumLayers, file.Entries.Count);

        using var fresh = TinyModels.Random(TinyModels.ByName(family));
        fresh.LoadAdapter(dir);
        Assert.Equal(adapted, fresh.Logits(Ids));
    }

    [Fact]
    public void Unknown_adapter_config_keys_are_ignored_and_peft_default_suffixes_accepted()
    {
        using var model = TinyModels.Random(TinyModels.Llama());
        var adapter = model.AddLora(r: 2, targets: ["q_proj"], dropout: 0);
        RandomizeB(adapter);
        var adapted = model.Logits(Ids);
        var dir = TempFolder.Fresh();
        adapter.Save(dir);
        var path = Path.Combine(dir, "adapter_config.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json["layers_to_transform"] = null;
        json["some_future_option"] = new System.Text.Json.Nodes.JsonObject { ["x"] = 1 };
        File.WriteAllText(path, json.ToJsonString());
        var st = SafeTensorFile.Open(Path.Combine(dir, "adapter_model.safetensors"));
        var renamed = st.Entries.Keys.Select(k => new KeyValuePair<string, Tensor>(k.Replace(".weight", ".default.weight"), st.Read(k))).ToList();
        SafeTensorFile.Save(Path.Combine(dir, "adapter_model.safetensors"), renamed);
        using var fresh = TinyModels.Random(TinyModels.Llama());
        Assert.Equal(["model.layers.0.self_attn.q_proj", "model.layers.1.self_attn.q_proj"], fresh.LoadAdapter(dir).Layers.Keys.Order());
        Assert.Equal(adapted, fresh.Logits(Ids));
    }

    [Fact]
    public void Bad_adapters_are_refused_with_named_tensors_and_leave_the_model_unchanged()
    {
        using var model = TinyModels.Random(TinyModels.Llama());
        var dir = TempFolder.Fresh();
        model.AddLora(r: 4, targets: ["q_proj", "v_proj"]).Save(dir);

        // another base: wider hidden size
        using var wider = TinyModels.Random(ModelConfig.Llama(23, 32, 2, 4, 2, 24));
        var before = wider.Logits(Ids);
        var e = Assert.Throws<AdapterFormatException>(() => wider.LoadAdapter(dir));
        Assert.Contains("q_proj.lora_A.weight", e.Message);
        Assert.Contains("[4, 16]", e.Message);
        Assert.Contains("[4, 32]", e.Message);
        Assert.Equal(before, wider.Logits(Ids));
        Assert.DoesNotContain(wider.Module.named_parameters(), p => p.name.Contains("lora"));

        // another family entirely
        using var gpt2 = TinyModels.Random(TinyModels.Gpt2());
        Assert.Contains("projections are", Assert.Throws<ArgumentException>(() => gpt2.LoadAdapter(dir)).Message);

        // wrong rank in the config
        var cfgPath = Path.Combine(dir, "adapter_config.json");
        var original = File.ReadAllText(cfgPath);
        File.WriteAllText(cfgPath, original.Replace("\"r\": 4", "\"r\": 8"));
        using var same = TinyModels.Random(TinyModels.Llama());
        e = Assert.Throws<AdapterFormatException>(() => same.LoadAdapter(dir));
        Assert.Contains("r=8", e.Message);
        File.WriteAllText(cfgPath, original);

        // truncated tensor file
        var st = Path.Combine(dir, "adapter_model.safetensors");
        var bytes = File.ReadAllBytes(st);
        File.WriteAllBytes(st, bytes[..(bytes.Length - 10)]);
        e = Assert.Throws<AdapterFormatException>(() => same.LoadAdapter(dir));
        Assert.Contains("adapter_model.safetensors", e.Message);
        Assert.DoesNotContain(same.Module.named_parameters(), p => p.name.Contains("lora"));
    }

    [Fact]
    public void Loaded_adapters_follow_the_models_mode_so_dropout_is_off_at_inference()
    {
        using var model = TinyModels.Random(TinyModels.Llama());
        var adapter = model.AddLora(r: 4, targets: ["q_proj", "v_proj"], dropout: 0.5);
        RandomizeB(adapter);
        Assert.All(adapter.Layers.Values, l => Assert.False(l.training));
        Assert.Equal(model.Logits(Ids), model.Logits(Ids));          // deterministic: no dropout in evaluation mode
        var dir = TempFolder.Fresh();
        adapter.Save(dir);
        Assert.Contains("unmerged LoRA layers", Assert.Throws<KitException>(() => model.Save(TempFolder.Fresh())).Message);
        using var fresh = TinyModels.Random(TinyModels.Llama());
        var loaded = fresh.LoadAdapter(dir);
        Assert.All(loaded.Layers.Values, l => Assert.False(l.training));
        Assert.Equal(model.Logits(Ids), fresh.Logits(Ids));
    }

    [Fact]
    public void Merge_and_unload_gives_a_plain_model_with_the_base_keys()
    {
        using var model = TinyModels.Random(TinyModels.Gpt2());
        var adapter = model.AddLora(r: 4, targets: ["c_attn", "c_fc"], dropout: 0);
        RandomizeB(adapter);
        var adapted = model.Logits(Ids);
        adapter.MergeAndUnload();
        Assert.DoesNotContain(model.Module.named_parameters(), p => p.name.Contains("lora") || p.name.Contains("base_layer"));
        var dir = TempFolder.Fresh();
        model.Save(dir);
        using var loaded = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        var merged = loaded.Logits(Ids);
        for (int v = 0; v < merged[^1].Length; v++) Assert.True(Math.Abs(adapted[^1][v] - merged[^1][v]) < 1e-4);
    }
}
