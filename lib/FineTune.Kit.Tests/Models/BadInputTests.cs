using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using FineTune.Kit.Models;
using static TorchSharp.torch;

namespace FineTune.Kit.Tests.Models;

public class BadInputTests
{
    private static string SavedLlama(out CausalLM model)
    {
        var dir = TempFolder.Fresh();
        model = TinyModels.Random(TinyModels.Llama());
        model.Save(dir);
        return dir;
    }

    private static void EditConfig(string dir, Action<JsonObject> edit)
    {
        var path = Path.Combine(dir, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    [Fact]
    public void Missing_folder_and_missing_config_are_named()
    {
        var e = Assert.Throws<ModelFormatException>(() => CausalLM.Load("/nonexistent/model"));
        Assert.Contains("/nonexistent/model", e.Message);
        var empty = TempFolder.Fresh();
        e = Assert.Throws<ModelFormatException>(() => CausalLM.Load(empty));
        Assert.Contains("config.json", e.Message);
    }

    [Fact]
    public void Missing_or_unknown_model_type_is_explained()
    {
        var dir = SavedLlama(out var m); m.Dispose();
        EditConfig(dir, j => j.Remove("model_type"));
        Assert.Contains("missing \"model_type\"", Assert.Throws<ModelFormatException>(() => CausalLM.Load(dir)).Message);
        EditConfig(dir, j => j["model_type"] = "bert");
        var e = Assert.Throws<ModelFormatException>(() => CausalLM.Load(dir));
        Assert.Contains("\"bert\" is not supported", e.Message);
        Assert.Contains("llama", e.Message);
    }

    [Fact]
    public void Missing_config_key_is_named()
    {
        var dir = SavedLlama(out var m); m.Dispose();
        EditConfig(dir, j => j.Remove("hidden_size"));
        Assert.Contains("missing \"hidden_size\"", Assert.Throws<ModelFormatException>(() => CausalLM.Load(dir)).Message);
    }

    [Fact]
    public void Missing_tensor_is_named_with_its_expected_shape()
    {
        var dir = TempFolder.Fresh();
        using var model = TinyModels.Random(TinyModels.Llama());
        model.Config.Save(dir);
        var tensors = model.Module.named_parameters().Where(np => np.name != "model.layers.1.mlp.up_proj.weight")
            .Select(np => new KeyValuePair<string, Tensor>(np.name, np.parameter)).ToList();
        SafeTensorFile.Save(Path.Combine(dir, "model.safetensors"), tensors);
        var e = Assert.Throws<ModelFormatException>(() => CausalLM.Load(dir));
        Assert.Contains("'model.layers.1.mlp.up_proj.weight' is missing", e.Message);
        Assert.Contains("[24, 16]", e.Message);
    }

    [Fact]
    public void Wrong_shape_names_the_tensor_and_both_shapes()
    {
        var dir = SavedLlama(out var m); m.Dispose();
        EditConfig(dir, j => j["intermediate_size"] = 32);
        var e = Assert.Throws<ModelFormatException>(() => CausalLM.Load(dir));
        Assert.Contains("gate_proj.weight", e.Message);
        Assert.Contains("[24, 16]", e.Message);
        Assert.Contains("[32, 16]", e.Message);
    }

    private static byte[] Safetensors(string header, int dataBytes)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        return bytes;
    }

    [Theory]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "outside the 4 data bytes")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap")]
    [InlineData("{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype 'Q4'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12")]
    [InlineData("{not json", 8, "not a JSON object")]
    public void Corrupt_safetensors_headers_are_explained(string header, int dataBytes, string expected)
    {
        var path = Path.Combine(TempFolder.Fresh(), "model.safetensors");
        File.WriteAllBytes(path, Safetensors(header, dataBytes));
        var e = Assert.Throws<ModelFormatException>(() => SafeTensorFile.Open(path));
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Truncated_files_are_explained()
    {
        var dir = SavedLlama(out var m); m.Dispose();
        var path = Path.Combine(dir, "model.safetensors");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        Assert.Contains("truncated", Assert.Throws<ModelFormatException>(() => CausalLM.Load(dir)).Message);
        File.WriteAllBytes(path, bytes[..100]);
        Assert.Contains("runs past the end of the file", Assert.Throws<ModelFormatException>(() => CausalLM.Load(dir)).Message);
        File.WriteAllBytes(path, bytes[..3]);
        Assert.Contains("truncated", Assert.Throws<ModelFormatException>(() => CausalLM.Load(dir)).Message);
    }

    [Fact]
    public void Unsupported_rope_scaling_is_refused_clearly()
    {
        var dir = SavedLlama(out var m); m.Dispose();
        EditConfig(dir, j => j["rope_scaling"] = new JsonObject { ["type"] = "yarn", ["factor"] = 4.0 });
        var e = Assert.Throws<ModelFormatException>(() => CausalLM.Load(dir));
        Assert.Contains("rope_scaling", e.Message);
        Assert.Contains("\"yarn\" is not supported", e.Message);
    }
}
