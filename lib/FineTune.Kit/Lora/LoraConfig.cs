using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTune.Kit.Lora;

/// <summary>
/// LoRA hyperparameters, read from and written to PEFT's `adapter_config.json`, so adapters move between this kit and
/// the Python ecosystem.
/// </summary>
public sealed record LoraConfig
{
    /// <summary>Rank of the update B·A.</summary>
    public int R { get; init; } = 8;
    /// <summary>Scale numerator: the update is multiplied by alpha / r (or alpha / sqrt(r) with rsLoRA).</summary>
    public double Alpha { get; init; } = 16;
    /// <summary>Dropout on the adapter's input during training.</summary>
    public double Dropout { get; init; } = 0.05;
    /// <summary>Module names to wrap (last name segment, e.g. q_proj, c_attn), or ["all-linear"].</summary>
    public IReadOnlyList<string> TargetModules { get; init; } = ["q_proj", "v_proj"];
    /// <summary>Use rsLoRA scaling alpha / sqrt(r), which keeps updates stable at high ranks.</summary>
    public bool UseRsLora { get; init; }
    /// <summary>Modules trained in full and saved with the adapter (e.g. lm_head).</summary>
    public IReadOnlyList<string> ModulesToSave { get; init; } = [];
    /// <summary>The base model the adapter was trained on.</summary>
    public string? BaseModelNameOrPath { get; init; }
    /// <summary>Whether the adapter was saved for inference only.</summary>
    public bool InferenceMode { get; init; } = true;
    /// <summary>Seed of A's initialisation.</summary>
    public int Seed { get; init; } = Seeds.Default;

    /// <summary>The factor applied to B·A·x.</summary>
    public double Scaling => UseRsLora ? Alpha / Math.Sqrt(R) : Alpha / R;

    /// <summary>Reads `adapter_config.json`; unknown keys are ignored, a non-LoRA or non-causal-LM adapter is refused.</summary>
    public static LoraConfig Load(string directory)
    {
        var path = Path.Combine(directory, "adapter_config.json");
        if (!File.Exists(path)) throw new AdapterFormatException($"{path}: adapter_config.json not found.");
        JsonObject j;
        try { j = JsonNode.Parse(File.ReadAllText(path))!.AsObject(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new AdapterFormatException($"{path}: not a JSON object: {e.Message}", e);
        }
        var type = j["peft_type"]?.GetValue<string>();
        if (type is not null && type != "LORA") throw new AdapterFormatException($"{path}: peft_type \"{type}\" is not supported (expected LORA).");
        if (j["bias"]?.GetValue<string>() is { } bias && bias != "none")
            throw new AdapterFormatException($"{path}: bias \"{bias}\" is not supported (expected none).");
        int r = j["r"]?.GetValue<int>() ?? throw new AdapterFormatException($"{path}: missing \"r\".");
        IReadOnlyList<string> targets = j["target_modules"] switch
        {
            JsonArray a => a.Select(n => n!.GetValue<string>()).ToArray(),
            JsonValue v when v.GetValue<string>() == "all-linear" => ["all-linear"],
            JsonValue v => throw new AdapterFormatException($"{path}: target_modules as a regular expression (\"{v}\") is not supported; give a list of names."),
            _ => throw new AdapterFormatException($"{path}: missing \"target_modules\"."),
        };
        return new LoraConfig
        {
            R = r,
            Alpha = j["lora_alpha"]?.GetValue<double>() ?? r,
            Dropout = j["lora_dropout"]?.GetValue<double>() ?? 0,
            TargetModules = targets,
            UseRsLora = j["use_rslora"]?.GetValue<bool>() ?? false,
            ModulesToSave = j["modules_to_save"] is JsonArray m ? m.Select(n => n!.GetValue<string>()).ToArray() : [],
            BaseModelNameOrPath = j["base_model_name_or_path"]?.GetValue<string>(),
            InferenceMode = j["inference_mode"]?.GetValue<bool>() ?? true,
        };
    }

    /// <summary>The PEFT `adapter_config.json` content.</summary>
    public JsonObject ToJson(bool fanInFanOut) => new()
    {
        ["peft_type"] = "LORA",
        ["task_type"] = "CAUSAL_LM",
        ["r"] = R,
        ["lora_alpha"] = Alpha,
        ["lora_dropout"] = Dropout,
        ["target_modules"] = TargetModules.Count == 1 && TargetModules[0] == "all-linear"
            ? "all-linear" : new JsonArray(TargetModules.Select(t => (JsonNode)t).ToArray()),
        ["bias"] = "none",
        ["fan_in_fan_out"] = fanInFanOut,
        ["use_rslora"] = UseRsLora,
        ["modules_to_save"] = ModulesToSave.Count == 0 ? null : new JsonArray(ModulesToSave.Select(t => (JsonNode)t).ToArray()),
        ["base_model_name_or_path"] = BaseModelNameOrPath,
        ["inference_mode"] = InferenceMode,
        ["init_lora_weights"] = true,
    };

    /// <summary>Serialises <see cref="ToJson"/> with indentation.</summary>
    public string ToJsonString(bool fanInFanOut) => ToJson(fanInFanOut).ToJsonString(new JsonSerializerOptions { WriteIndented = true });
}
