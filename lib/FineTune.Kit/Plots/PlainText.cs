using System.Collections;
using System.Globalization;
using System.Text;

namespace FineTune.Kit.Plots;

/// <summary>
/// The `text/plain` form of a value: numbers in invariant culture, collections and dictionaries listed (the first
/// items only), tensors with their values, anything else by its ToString().
/// </summary>
public static class PlainText
{
    /// <summary>How many items of a collection are listed before "…".</summary>
    public const int MaxItems = 20;

    /// <summary>Formats a value as plain text.</summary>
    public static string Format(object? value) => Format(value, depth: 0);

    private static string Format(object? value, int depth)
    {
        switch (value)
        {
            case null:
                return "null";
            case string s:
                return depth == 0 ? s : "\"" + s + "\"";
            case TorchSharp.torch.Tensor tensor:
                return tensor.ToString(TorchSharp.TensorStringStyle.Julia, cultureInfo: CultureInfo.InvariantCulture);
            case IFormattable formattable:
                return formattable.ToString(null, CultureInfo.InvariantCulture);
            case IDictionary dictionary when depth < 2:
                return List(dictionary.Cast<DictionaryEntry>().Select(e => Format(e.Key, depth + 1) + ": " + Format(e.Value, depth + 1)),
                    "{ ", " }", dictionary.Count);
            case IEnumerable items when depth < 2 && !HasOwnToString(value):
                return List(items.Cast<object?>().Select(i => Format(i, depth + 1)), "[", "]", (items as ICollection)?.Count);
            default:
                return value.ToString() ?? "";
        }
    }

    private static string List(IEnumerable<string> items, string open, string close, int? count)
    {
        var sb = new StringBuilder(open);
        int n = 0;
        foreach (var item in items)
        {
            if (n == MaxItems)
            {
                sb.Append(count is { } c ? $", … ({c - MaxItems} more)" : ", …");
                break;
            }
            if (n++ > 0) sb.Append(", ");
            sb.Append(item);
        }
        return sb.Append(close).ToString();
    }

    // records and kit types that print themselves well are left to their ToString()
    private static bool HasOwnToString(object value)
    {
        var method = value.GetType().GetMethod(nameof(ToString), Type.EmptyTypes);
        var declaring = method?.DeclaringType;
        return declaring is not null && declaring != typeof(object)
               && declaring.Namespace?.StartsWith("System", StringComparison.Ordinal) != true;
    }
}
