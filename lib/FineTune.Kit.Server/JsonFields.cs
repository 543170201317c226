using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTune.Kit.Server;

/// <summary>Reads request fields with OpenAI's rules; a wrong type or value is a 400 naming the field.</summary>
internal static class JsonFields
{
    public static string? String(JsonObject body, string name, bool required = false)
    {
        var node = body[name];
        if (node is null)
            return required ? throw new ApiError(400, $"you must provide '{name}'", param: name, code: "missing_required_parameter") : null;
        if (node.GetValueKind() != JsonValueKind.String) throw ApiError.BadValue(name, $"'{name}' must be a string");
        return node.GetValue<string>();
    }

    public static double? Number(JsonObject body, string name, double min, double max)
    {
        var node = body[name];
        if (node is null) return null;
        if (node.GetValueKind() != JsonValueKind.Number) throw ApiError.BadValue(name, $"'{name}' must be a number");
        var v = node.GetValue<double>();
        if (double.IsNaN(v) || v < min || v > max) throw ApiError.BadValue(name, $"'{name}' must be between {min} and {max}, got {v}");
        return v;
    }

    public static long? Integer(JsonObject body, string name, long min, long max)
    {
        var node = body[name];
        if (node is null) return null;
        if (node.GetValueKind() != JsonValueKind.Number || !node.AsValue().TryGetValue<long>(out var v))
            throw ApiError.BadValue(name, $"'{name}' must be an integer");
        if (v < min || v > max) throw ApiError.BadValue(name, $"'{name}' must be between {min} and {max}, got {v}");
        return v;
    }

    public static bool Bool(JsonObject body, string name)
    {
        var node = body[name];
        if (node is null) return false;
        return node.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw ApiError.BadValue(name, $"'{name}' must be true or false"),
        };
    }

    /// <summary>A string or an array of strings (stop, prompt, input).</summary>
    public static IReadOnlyList<string> Strings(JsonObject body, string name, int maxCount, bool required = false)
    {
        var node = body[name];
        if (node is null)
            return required ? throw new ApiError(400, $"you must provide '{name}'", param: name, code: "missing_required_parameter") : [];
        List<string> values;
        if (node.GetValueKind() == JsonValueKind.String) values = [node.GetValue<string>()];
        else if (node is JsonArray array && array.All(n => n?.GetValueKind() == JsonValueKind.String))
            values = array.Select(n => n!.GetValue<string>()).ToList();
        else throw ApiError.BadValue(name, $"'{name}' must be a string or an array of strings");
        if (values.Count > maxCount) throw ApiError.BadValue(name, $"'{name}' takes at most {maxCount} strings, got {values.Count}");
        if (required && values.Count == 0) throw ApiError.BadValue(name, $"'{name}' must not be empty");
        return values;
    }
}
