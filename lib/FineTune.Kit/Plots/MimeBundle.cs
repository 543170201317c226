namespace FineTune.Kit.Plots;

/// <summary>
/// One value rendered in one or more representations (`text/html`, `text/plain`, ...), richest first; a front end
/// shows the richest one it can.
/// </summary>
public sealed class MimeBundle
{
    private readonly List<KeyValuePair<string, string>> _items = [];

    /// <summary>The representations in the order they were added.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Items => _items;

    /// <summary>Adds (or replaces) a representation.</summary>
    public MimeBundle With(string mimeType, string content)
    {
        _items.RemoveAll(kv => kv.Key == mimeType);
        _items.Add(new(mimeType, content));
        return this;
    }

    /// <summary>The content for a MIME type, or null.</summary>
    public string? this[string mimeType] => _items.FirstOrDefault(kv => kv.Key == mimeType).Value;
}
