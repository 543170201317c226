using System.Reflection;
using static TorchSharp.torch;

namespace FineTune.Kit.Models;

/// <summary>
/// TorchSharp 0.107's custom autograd functions keep, for each output, an uninitialised tensor of the output's size
/// until the backward pass, only to build zeros for a gradient that never arrived. A function that turns that off
/// (<c>set_materialize_grads(false)</c>) never reads them, yet they stay allocated: for the widened products of a
/// half-precision frozen base that is one more activation-sized tensor per linear layer, enough to make the
/// bfloat16 base peak above the float32 model. This releases them right after the call.
/// </summary>
/// <remarks>
/// It reads TorchSharp's private fields (the context's node, the node's output cache). Where a TorchSharp version
/// does not have them, nothing is done and <see cref="Supported"/> is false; a test checks that it is true for the
/// version the kit ships with.
/// </remarks>
internal static class AutogradOutputCache
{
    private static readonly FieldInfo? NodeField =
        typeof(autograd.AutogradContext).GetField("_node", BindingFlags.NonPublic | BindingFlags.Instance);

    // the node type is one closed generic per custom function: look its field up once
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, FieldInfo?> CacheFields = new();

    private static FieldInfo? CacheField(Type nodeType) =>
        CacheFields.GetOrAdd(nodeType, t => t.GetField("_outputCache", BindingFlags.NonPublic | BindingFlags.Instance));

    /// <summary>Whether this TorchSharp has the fields the release needs.</summary>
    public static bool Supported => NodeField is not null;

    /// <summary>
    /// Disposes and forgets the output cache of the node behind <paramref name="context"/>; false when there was none
    /// to release (no gradient was recorded, or this TorchSharp keeps it elsewhere).
    /// </summary>
    public static bool Release(autograd.AutogradContext context)
    {
        if (context.MaterializeGrads)
            throw new InvalidOperationException("the output cache is read when gradients are materialised; call set_materialize_grads(false) first");
        var node = NodeField?.GetValue(context);
        if (node is null || CacheField(node.GetType()) is not { } field || field.GetValue(node) is not List<Tensor> cache)
            return false;
        bool released = false;
        for (int i = 0; i < cache.Count; i++)
        {
            if (cache[i] is not { } placeholder) continue;
            placeholder.Dispose();
            cache[i] = null!;
            released = true;
        }
        return released;
    }
}
