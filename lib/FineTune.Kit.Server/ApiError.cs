using System.Text.Json.Nodes;

namespace FineTune.Kit.Server;

/// <summary>
/// A request the server refuses, answered in OpenAI's error shape:
/// <c>{"error": {"message", "type", "param", "code"}}</c>.
/// </summary>
public sealed class ApiError(int status, string message, string type = "invalid_request_error", string? param = null, string? code = null)
    : Exception(message)
{
    /// <summary>HTTP status.</summary>
    public int Status { get; } = status;
    /// <summary>OpenAI error type, e.g. invalid_request_error.</summary>
    public string Type { get; } = type;
    /// <summary>The request field at fault, if any.</summary>
    public string? Param { get; } = param;
    /// <summary>A machine-readable code, e.g. model_not_found.</summary>
    public string? Code { get; } = code;

    /// <summary>The JSON body.</summary>
    public JsonObject ToJson() => new()
    {
        ["error"] = new JsonObject { ["message"] = Message, ["type"] = Type, ["param"] = Param, ["code"] = Code },
    };

    /// <summary>400 for a bad value of a field.</summary>
    public static ApiError BadValue(string param, string message) => new(400, message, param: param, code: "invalid_value");
}
