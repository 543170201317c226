using System.Text.Json.Nodes;
using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Tests.Models;

namespace FineTune.Kit.Tests.Cli;

public class ModelCommandTests
{
    private static string SavedTokenizedModel(out CausalLM model)
    {
        var dir = TempFolder.Fresh();
        model = TinyTokenized.Llama();
        var tok = TinyTokenized.Tokenizer();
        model.Save(dir, extraFiles: d =>
            new FineTune.Kit.Text.BpeTrainer().VocabSize(300).SpecialTokens("<|endoftext|>")
                .Train(["my parcel never arrived and the tracking page is empty", "please refund the double charge on my card",
                        "the thermostat shows error E42 after the update", "I cannot log in, the password reset email never arrives",
                        "great service, the driver was friendly"]).Save(d));
        return dir;
    }

    [Fact]
    public void Score_prints_float32_logits_for_every_position_and_applies_an_adapter()
    {
        var dir = SavedTokenizedModel(out var model);
        using (model)
        {
            var (exit, output, err) = CliRunner.Run("score", "--model", dir, "--ids", "5 77 256", "--json", "--device", "cpu");
            Assert.True(exit == 0, err);
            var logits = JsonNode.Parse(output)!["logits"]!.AsArray();
            Assert.Equal(3, logits.Count);
            var expected = model.Logits([5, 77, 256]);
            for (int t = 0; t < 3; t++)
            {
                Assert.Equal(model.Config.VocabSize, logits[t]!.AsArray().Count);
                for (int v = 0; v < expected[t].Length; v++) Assert.Equal(expected[t][v], logits[t]![v]!.GetValue<float>());
            }

            var adapterDir = TempFolder.Fresh();
            var adapter = model.AddLora(r: 2, targets: ["q_proj", "v_proj"], dropout: 0);
            using (TorchSharp.torch.no_grad()) foreach (var l in adapter.Layers.Values) l.lora_B.weight!.fill_(0.3f);
            adapter.Save(adapterDir);
            var adapted = model.Logits([5, 77, 256]);
            (exit, output, err) = CliRunner.Run("score", "--model", dir, "--adapter", adapterDir, "--ids", "5,77,256", "--json");
            Assert.True(exit == 0, err);
            var withAdapter = JsonNode.Parse(output)!["logits"]!.AsArray();
            Assert.Equal(adapted[2][0], withAdapter[2]![0]!.GetValue<float>(), 4);
            Assert.NotEqual(expected[2][0], withAdapter[2]![0]!.GetValue<float>());
        }
    }

    [Fact]
    public void Errors_are_one_line_on_stderr_with_a_non_zero_exit()
    {
        var (exit, output, err) = CliRunner.Run("info", "--model", "/nonexistent/model");
        Assert.NotEqual(0, exit);
        Assert.Equal("", output);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains("/nonexistent/model", err);
        var dir = SavedTokenizedModel(out var model);
        model.Dispose();
        (exit, _, err) = CliRunner.Run("score", "--model", dir, "--ids", "5 x 7", "--json");
        Assert.Equal(1, exit);
        Assert.Contains("'x' is not a token id", err);
        (exit, _, err) = CliRunner.Run("score", "--model", dir, "--ids", "99999", "--json");
        Assert.Contains("outside the vocabulary", err);
    }

    [Fact]
    public void Info_generate_and_merge_work_on_a_model_folder()
    {
        var dir = SavedTokenizedModel(out var model);
        using (model)
        {
            var (exit, output, err) = CliRunner.Run("info", "--model", dir);
            Assert.True(exit == 0, err);
            Assert.Contains("llama", output);
            Assert.Contains(model.ParameterCount.ToString("N0"), output);
            Assert.Contains("theta 10000", output);
            Assert.Contains("full causal", output);
            (exit, output, err) = CliRunner.Run("generate", "--model", dir, "--prompt", "my parcel", "--max-new-tokens", "5");
            Assert.True(exit == 0, err);
            Assert.Equal(model.Generate("my parcel", new GenerationOptions { MaxNewTokens = 5 }), output.TrimEnd('\n'));

            var adapterDir = TempFolder.Fresh();
            var adapter = model.AddLora(r: 2, targets: ["q_proj"], dropout: 0);
            using (TorchSharp.torch.no_grad()) foreach (var l in adapter.Layers.Values) l.lora_B.weight!.fill_(0.2f);
            adapter.Save(adapterDir);
            var prompt = new FineTune.Kit.Prompting.PromptTemplate().WithInputPrefix("Customer: ").WithOutputPrefix("Category:").WithLabels("billing", "refund");
            FineTune.Kit.Prompting.PromptFile.Save(prompt, adapterDir);
            var adapted = model.Logits([3, 4, 5]);
            var merged = Path.Combine(TempFolder.Fresh(), "merged");
            (exit, _, err) = CliRunner.Run("merge", "--model", dir, "--adapter", adapterDir, "--out", merged);
            Assert.True(exit == 0, err);
            using var loaded = CausalLM.Load(merged);
            Assert.NotNull(loaded.Tokenizer);                               // the tokenizer travels with the weights
            Assert.Equal(prompt.Render("x"), FineTune.Kit.Prompting.PromptFile.Load(merged).Render("x"));   // and so does the prompt
            Assert.Equal(SafeTensorFile.Open(Path.Combine(dir, "model.safetensors")).Entries.Keys.Order(),
                         SafeTensorFile.Open(Path.Combine(merged, "model.safetensors")).Entries.Keys.Order());
            var fromMerged = loaded.Logits([3, 4, 5]);
            for (int v = 0; v < fromMerged[2].Length; v++) Assert.Equal(adapted[2][v], fromMerged[2][v], 4);
        }
    }

    /// <summary>A saved tokenized model, twelve prompt/completion rows and a fresh output folder.</summary>
    private static (string Model, string Data, string Out) PromptCompletionRun()
    {
        var dir = SavedTokenizedModel(out var model);
        model.Dispose();
        var data = Path.Combine(TempFolder.Fresh(), "train.jsonl");
        File.WriteAllLines(data, Enumerable.Range(0, 12).Select(i =>
            new JsonObject { ["prompt"] = $"ticket {i}: my parcel never arrived\nIntent:", ["completion"] = " shipping" }.ToJsonString()));
        return (dir, data, Path.Combine(TempFolder.Fresh(), "adapter"));
    }

    [Fact]
    public void Train_writes_a_peft_adapter_and_history_from_prompt_completion_data()
    {
        var (dir, data, outDir) = PromptCompletionRun();
        var (exit, output, err) = CliRunner.Run("train", "--model", dir, "--data", data, "--out", outDir, "--steps", "3", "--batch-size", "4", "--lr", "1e-2");
        Assert.True(exit == 0, err + output);
        Assert.True(File.Exists(Path.Combine(outDir, "adapter_config.json")));
        Assert.True(File.Exists(Path.Combine(outDir, "adapter_model.safetensors")));
        var history = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "history.json")))!.AsArray();
        Assert.Equal(3, history.Count);
        using var reloaded = CausalLM.Load(dir);
        Assert.Equal(2 * reloaded.Config.NumLayers, reloaded.LoadAdapter(outDir).Layers.Count);
    }

    [Fact]
    public void Train_with_every_memory_saver_writes_an_adapter_that_loads_on_the_float32_base()
    {
        var (dir, data, outDir) = PromptCompletionRun();
        var (exit, output, err) = CliRunner.Run("train", "--model", dir, "--data", data, "--out", outDir, "--steps", "3", "--batch-size", "2",
            "--lr", "1e-2", "--targets", "all-linear", "--base-dtype", "bfloat16", "--gradient-checkpointing", "--packing");
        Assert.True(exit == 0, err + output);
        Assert.Contains("frozen base stored in bfloat16", output);
        Assert.Equal(3, JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "history.json")))!.AsArray().Count);
        using var reloaded = CausalLM.Load(dir);
        var adapter = reloaded.LoadAdapter(outDir);
        Assert.All(adapter.Layers.Values, l => Assert.Equal(TorchSharp.torch.ScalarType.Float32, l.lora_A.weight!.dtype));
    }

    [Theory]
    [InlineData("--full", "--base-dtype", "bfloat16")]
    [InlineData("--objective", "dpo", "--packing")]
    [InlineData("--base-dtype", "float16")]
    public void Train_refuses_memory_savers_that_cannot_apply_in_one_line(params string[] extra)
    {
        var (exit, _, err) = CliRunner.Run(["train", "--model", ".", "--data", "x.jsonl", "--out", TempFolder.Fresh(), .. extra]);
        Assert.NotEqual(0, exit);
        Assert.Single(err.Trim().Split('\n'), l => l.Contains("--base-dtype") || l.Contains("--packing"));
        Assert.DoesNotContain("   at ", err);
    }
}

public class CompareWithModelTests
{
    [Fact]
    public void Compare_runs_prompting_and_adapters_live_and_prints_the_documented_json()
    {
        var dir = TempFolder.Fresh();
        using (var model = TinyTokenized.Llama())
        {
            model.Save(dir, extraFiles: d => new FineTune.Kit.Text.BpeTrainer().VocabSize(300).SpecialTokens("<|endoftext|>")
                .Train(["my parcel never arrived and the tracking page is empty", "please refund the double charge on my card",
                        "the thermostat shows error E42 after the update", "I cannot log in, the password reset email never arrives",
                        "great service, the driver was friendly"]).Save(d));
        }
        var adapterDir = TempFolder.Fresh();
        using (var model = CausalLM.Load(dir)) model.AddLora(r: 4, targets: ["q_proj", "v_proj"]).Save(adapterDir);
        var data = Path.Combine(TempFolder.Fresh(), "test.jsonl");
        File.WriteAllLines(data, Enumerable.Range(0, 10).Select(i =>
            new JsonObject { ["text"] = i % 2 == 0 ? $"my parcel {i} never arrived" : $"refund the charge {i}", ["label"] = i % 2 == 0 ? "shipping_delay" : "refund" }.ToJsonString()));
        var (exit, output, err) = CliRunner.Run("compare", "--model", dir, "--adapter", adapterDir, "--data", data, "--shots", "0,2", "--json", "--resamples", "200");
        Assert.True(exit == 0, err);
        var json = JsonNode.Parse(output)!.AsObject();
        Assert.Equal(["approaches", "recommendation"], json.Select(kv => kv.Key).Order());
        var rows = json["approaches"]!.AsArray();
        Assert.Equal(["zero-shot", "few-shot k=2", "LoRA r=4"], rows.Select(r => r!["name"]!.GetValue<string>()));
        string[] keys = ["name", "accuracy", "accuracy_ci", "macro_f1", "trainable_params", "train_seconds", "latency_ms", "prompt_tokens", "cost_per_1k"];
        Assert.All(rows, r => Assert.Equal(keys.Order(), r!.AsObject().Select(kv => kv.Key).Order()));
        // a fresh adapter (B = 0) changes nothing, so it scores exactly like zero-shot
        Assert.Equal(rows[0]!["accuracy"]!.GetValue<double>(), rows[2]!["accuracy"]!.GetValue<double>());
    }
}
