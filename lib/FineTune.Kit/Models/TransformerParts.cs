using System.Reflection;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FineTune.Kit.Models;

/// <summary>
/// Base of the kit's modules: lets adapters swap a child module (a projection for its LoRA wrapper) while keeping the
/// parameter names that checkpoints use.
/// </summary>
public abstract class KitModule : nn.Module
{
    /// <summary>Creates a module with a name.</summary>
    protected KitModule(string name) : base(name) { }

    /// <summary>Replaces the child registered as <paramref name="name"/> (a field of the same name) by another module.</summary>
    public void ReplaceChild(string name, nn.Module<Tensor, Tensor> replacement)
    {
        var field = GetType().GetField(name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
                    ?? throw new InvalidOperationException($"{GetType().Name} has no child named '{name}'.");
        field.SetValue(this, replacement);
        _internal_submodules[name] = replacement;
    }

    /// <summary>The direct children that can be replaced, by name.</summary>
    public IEnumerable<(string Name, nn.Module<Tensor, Tensor> Module)> ReplaceableChildren() =>
        GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .Where(f => f.FieldType == typeof(nn.Module<Tensor, Tensor>) && f.GetValue(this) is not null)
            .Select(f => (f.Name, (nn.Module<Tensor, Tensor>)f.GetValue(this)!));
}

/// <summary>A block's attention: projections, RoPE, the attention itself; the family decides the projections' layout.</summary>
public abstract class AttentionModule : KitModule
{
    /// <summary>Creates a module with a name.</summary>
    protected AttentionModule(string name) : base(name) { }

    /// <summary>
    /// Attends over <paramref name="x"/> [batch, time, hidden] with the given RoPE tables and allowed-keys mask,
    /// appending this layer's keys and values to <paramref name="cache"/> when given.
    /// </summary>
    internal abstract Tensor Forward(Tensor x, int layer, Tensor cos, Tensor sin, Tensor allowed, KvCache? cache,
        bool wantWeights, out Tensor? weights);
}

/// <summary>A block's feed-forward network.</summary>
public abstract class MlpModule : KitModule
{
    /// <summary>Creates a module with a name.</summary>
    protected MlpModule(string name) : base(name) { }

    /// <summary>Applies the MLP to [batch, time, hidden].</summary>
    internal abstract Tensor Forward(Tensor x);
}

/// <summary>GPT-2's Conv1D: a linear layer whose weight is stored [in, out] (transposed from nn.Linear).</summary>
public sealed class Conv1D : nn.Module<Tensor, Tensor>
{
    /// <summary>Weight [in_features, out_features].</summary>
    public Parameter weight;
    /// <summary>Bias [out_features].</summary>
    public Parameter bias;

    /// <summary>Creates a zero-initialised Conv1D.</summary>
    public Conv1D(long inFeatures, long outFeatures) : base("Conv1D")
    {
        weight = new Parameter(zeros(inFeatures, outFeatures));
        bias = new Parameter(zeros(outFeatures));
        RegisterComponents();
    }

    /// <summary>Input width.</summary>
    public long InFeatures => weight.shape[0];
    /// <summary>Output width.</summary>
    public long OutFeatures => weight.shape[1];

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => x.matmul(weight).add_(bias);
}

/// <summary>RMSNorm, computed in float32 whatever the input dtype (as Llama does).</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    /// <summary>Per-channel gain.</summary>
    public Parameter weight;
    private readonly double _eps;

    /// <summary>Creates an RMSNorm of the given width.</summary>
    public RmsNorm(long dim, double eps) : base("RmsNorm")
    {
        weight = new Parameter(ones(dim));
        _eps = eps;
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        // half-precision inputs are upcast for the mean of squares; float64 stays float64
        var x32 = x.dtype == ScalarType.Float64 ? x : x.to_type(ScalarType.Float32);
        var normed = x32 * rsqrt(x32.pow(2).mean([-1], keepdim: true) + _eps);
        return (weight * normed.to_type(x.dtype)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Keys and values of past positions, one pair per layer, so generation only computes the new token. Each layer's
/// keys and values live in a buffer [batch, kv heads, capacity, head dim] that new positions are copied into; the
/// buffer is reallocated only when a step does not fit, so a cache created with the final length as its capacity
/// allocates once.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor?[] _keys, _values;
    private readonly long[] _lengths, _allocated;
    private readonly long _capacity;

    /// <summary>Creates an empty cache for a model with <paramref name="layers"/> blocks.</summary>
    /// <param name="layers">Number of blocks.</param>
    /// <param name="capacity">Positions to allocate at the first append (0: just what it holds; each later append then reallocates).</param>
    public KvCache(int layers, long capacity = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
        _lengths = new long[layers];
        _allocated = new long[layers];
        _capacity = capacity;
    }

    /// <summary>Number of positions cached.</summary>
    public long Length => _lengths[0];

    /// <summary>
    /// Appends this step's keys and values [batch, kv heads, time, head dim] for a layer and returns all of them, as views
    /// of the cache's buffers: the cache owns the memory, the views belong to the caller's dispose scope.
    /// </summary>
    public (Tensor K, Tensor V) Append(int layer, Tensor k, Tensor v)
    {
        long length = _lengths[layer], time = k.shape[2];
        if (length + time > _allocated[layer])
        {
            long size = Math.Max(length + time, _capacity);
            Grow(ref _keys[layer], k, length, size);
            Grow(ref _values[layer], v, length, size);
            _allocated[layer] = size;
        }
        // the views written through are dropped at once; only the returned ones go to the caller's scope
        using (var slot = _keys[layer]!.narrow(2, length, time)) slot.copy_(k);
        using (var slot = _values[layer]!.narrow(2, length, time)) slot.copy_(v);
        _lengths[layer] = length + time;
        return (_keys[layer]!.narrow(2, 0, length + time), _values[layer]!.narrow(2, 0, length + time));
    }

    // a buffer of `size` positions holding the first `length` of the old one
    private static void Grow(ref Tensor? buffer, Tensor like, long length, long size)
    {
        var grown = empty([like.shape[0], like.shape[1], size, like.shape[3]], like.dtype, like.device).DetachFromDisposeScope();
        if (buffer is not null)
        {
            using (var kept = grown.narrow(2, 0, length))
            using (var old = buffer.narrow(2, 0, length))
                kept.copy_(old);
            buffer.Dispose();
        }
        buffer = grown;
    }

    /// <summary>Keeps only the given batch rows (for dropping finished sequences or reordering).</summary>
    public void Select(Tensor rows)
    {
        for (int i = 0; i < _keys.Length; i++)
        {
            if (_keys[i] is null) continue;
            var k = _keys[i]!.index_select(0, rows).DetachFromDisposeScope();
            var v = _values[i]!.index_select(0, rows).DetachFromDisposeScope();
            _keys[i]!.Dispose(); _values[i]!.Dispose();
            _keys[i] = k; _values[i] = v;
        }
        // index_select keeps the buffers' length: allocated positions stay as they were
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in _keys) t?.Dispose();
        foreach (var t in _values) t?.Dispose();
        Array.Clear(_keys);
        Array.Clear(_values);
        Array.Clear(_lengths);
        Array.Clear(_allocated);
    }
}

/// <summary>What a forward pass returns.</summary>
public sealed class ForwardOutput : IDisposable
{
    /// <summary>Logits [batch, time, vocab].</summary>
    public required Tensor Logits { get; init; }
    /// <summary>When requested: the embedding output, then each block's output; the last entry is after the final norm (as Hugging Face returns them).</summary>
    public IReadOnlyList<Tensor>? HiddenStates { get; init; }
    /// <summary>When requested: each layer's attention weights [batch, heads, time, keys].</summary>
    public IReadOnlyList<Tensor>? Attentions { get; init; }

    /// <inheritdoc />
    public void Dispose()
    {
        Logits.Dispose();
        foreach (var t in HiddenStates ?? []) t.Dispose();
        foreach (var t in Attentions ?? []) t.Dispose();
    }
}

/// <summary>Attention arithmetic shared by the families: masks, positions, RoPE and the attention itself.</summary>
internal static class AttentionMath
{
    /// <summary>
    /// Which keys each query may attend to, [batch, 1, time, keys]: earlier or same positions, and only real tokens —
    /// except that every position may always see itself, so a padding row never has an empty softmax. With a
    /// <paramref name="window"/>, only the last that many keys (the query's own included).
    /// </summary>
    public static Tensor AllowedMask(long batch, long time, long past, Tensor? keyMask, Device device, int? window = null)
    {
        long keys = past + time;
        var q = arange(past, keys, device: device).unsqueeze(1);
        var k = arange(keys, device: device).unsqueeze(0);
        var causal = k.le(q);                          // [T, S]
        // Sliding window as transformers' masking_utils defines it (sliding_window_overlay: kv_idx > q_idx - window):
        // query i sees key j when i - window < j <= i, i.e. `window` keys counting itself. Indices count cached keys
        // too, so a generation step with the KV cache gets the same band as recomputing the whole sequence.
        if (window is { } w) causal = causal.logical_and(k.gt(q - w));
        var allowed = causal.unsqueeze(0).unsqueeze(0).expand(batch, 1, time, keys);
        if (keyMask is null) return allowed;
        var self = k.eq(q).unsqueeze(0).unsqueeze(0);
        var real = keyMask.to_type(ScalarType.Bool).view(batch, 1, 1, keys);
        allowed = allowed.logical_and(real.logical_or(self));
        if (keyMask.dtype == ScalarType.Bool) return allowed;
        // packed sequences: a real query sees only keys of its own segment (padding queries keep the plain rule)
        var segment = keyMask.to_type(ScalarType.Int64);
        var querySegment = segment.narrow(1, past, time).view(batch, 1, time, 1);
        var sameSegment = querySegment.eq(segment.view(batch, 1, 1, keys)).logical_or(querySegment.eq(0));
        return allowed.logical_and(sameSegment);
    }

    /// <summary>
    /// Position ids [batch, time]: counted over real tokens only, so left padding does not shift positions. A mask that
    /// holds segment numbers (1, 2, … increasing along the row, 0 for padding) marks examples packed into one row:
    /// positions restart at 0 in each segment, as if each example were alone.
    /// </summary>
    public static Tensor Positions(long batch, long time, long past, Tensor? keyMask, Device device)
    {
        if (keyMask is null) return arange(past, past + time, device: device).unsqueeze(0).expand(batch, time);
        var segment = keyMask.to_type(ScalarType.Int64);
        var real = segment.gt(0);
        var pos = real.to_type(ScalarType.Int64).cumsum(1).sub(1).narrow(1, past, time);
        if (keyMask.dtype != ScalarType.Bool)
        {
            // minus the real tokens of earlier segments ([batch, time, keys]): none for a plain 0/1 mask
            var querySegment = segment.narrow(1, past, time).unsqueeze(2);
            var earlier = segment.unsqueeze(1).lt(querySegment).logical_and(real.unsqueeze(1));
            pos = pos.sub(earlier.sum(2));
        }
        return pos.clamp_min(0);
    }

    /// <summary>
    /// Scaled dot-product attention with grouped-query support; optionally returns the weights. Scores are q·k times
    /// <paramref name="scale"/> (default 1/√head_dim), then, with a <paramref name="softcap"/>, cap · tanh(score / cap)
    /// before the mask (Gemma's attention soft-capping).
    /// </summary>
    public static Tensor Attend(Tensor q, Tensor k, Tensor v, Tensor allowed, bool returnWeights, out Tensor? weights,
        double dropout, bool training, double? scale = null, double? softcap = null)
    {
        long heads = q.shape[1], kvHeads = k.shape[1];
        double p = training ? dropout : 0;
        double defaultScale = 1 / Math.Sqrt(q.shape[^1]);
        if (!returnWeights && softcap is null)
        {
            weights = null;
            // the fused kernel scales by 1/√head_dim: another scale goes into the queries
            if (scale is { } s && s != defaultScale) q = q * (s / defaultScale);
            // inference only (decode is where copying keys and values per head shows); training keeps the copying
            // form, whose cost is small beside a step's matmuls, and with it the numerics runs were tuned on
            if (kvHeads != heads && p == 0 && !is_grad_enabled()) return GroupedAttention(q, k, v, allowed);
        }
        if (kvHeads != heads)
        {
            k = k.repeat_interleave(heads / kvHeads, dim: 1);
            v = v.repeat_interleave(heads / kvHeads, dim: 1);
        }
        weights = null;
        if (!returnWeights && softcap is null) return F.scaled_dot_product_attention(q, k, v, allowed, p, false);
        var scores = q.matmul(k.transpose(-2, -1)).mul_(scale ?? defaultScale);
        if (softcap is { } cap) scores = scores.div(cap).tanh().mul(cap);   // not in place: tanh's gradient reads its output
        scores = scores.masked_fill(allowed.logical_not(), float.NegativeInfinity);
        var probabilities = F.softmax(q.dtype == ScalarType.Float64 ? scores : scores.to_type(ScalarType.Float32), -1).to_type(q.dtype);
        weights = returnWeights ? probabilities : null;
        var w = p > 0 ? F.dropout(probabilities, p, true) : probabilities;
        return w.matmul(v);
    }

    /// <summary>
    /// Grouped-query attention without copying keys and values per query head: the g query heads that share a key head
    /// are stacked along time ([batch, kv heads, g·time, head_dim]) and attend to that key head's keys once. Head h uses
    /// key head h / g, as <c>repeat_interleave</c> would pair them.
    /// </summary>
    private static Tensor GroupedAttention(Tensor q, Tensor k, Tensor v, Tensor allowed)
    {
        long batch = q.shape[0], heads = q.shape[1], time = q.shape[2], dim = q.shape[3], kvHeads = k.shape[1], keys = k.shape[2];
        long g = heads / kvHeads;
        var grouped = q.reshape(batch, kvHeads, g * time, dim);
        long maskBatch = allowed.shape[0];
        var mask = allowed.unsqueeze(2).expand(maskBatch, 1, g, time, keys).reshape(maskBatch, 1, g * time, keys);
        return F.scaled_dot_product_attention(grouped, k, v, mask, 0, false).reshape(batch, heads, time, dim);
    }

    /// <summary>
    /// cos and sin tables for rotate-half RoPE at the given positions: [batch, 1, time, head_dim], from the inverse
    /// frequencies of <see cref="RopeFrequencies.Compute"/> (head_dim / 2 of them), multiplied by
    /// <paramref name="scaling"/> (<see cref="RopeFrequencies.AttentionScaling"/>).
    /// </summary>
    public static (Tensor Cos, Tensor Sin) Rope(Tensor positions, double[] inverseFrequencies, ScalarType dtype, double scaling = 1)
    {
        var invFreq = tensor(inverseFrequencies, ScalarType.Float64, positions.device);
        var freqs = positions.to_type(ScalarType.Float64).unsqueeze(-1) * invFreq;   // [B, T, D/2]
        var emb = cat([freqs, freqs], -1).unsqueeze(1);                             // [B, 1, T, D]
        // longrope's attention factor scales both tables (so q·k grows by its square)
        return scaling == 1 ? (emb.cos().to_type(dtype), emb.sin().to_type(dtype))
            : ((emb.cos() * scaling).to_type(dtype), (emb.sin() * scaling).to_type(dtype));
    }

    /// <summary>
    /// Applies RoPE: x·cos + rotate_half(x)·sin, where rotate_half(x) = [−x₂, x₁]. Tables narrower than the head rotate
    /// its first channels only and pass the rest through (partial rotary).
    /// </summary>
    public static Tensor ApplyRope(Tensor x, Tensor cos, Tensor sin)
    {
        long rotary = cos.shape[^1], width = x.shape[^1];
        if (rotary < width)
            return cat([ApplyRope(x.narrow(-1, 0, rotary), cos, sin), x.narrow(-1, rotary, width - rotary)], -1);
        long half = width / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        var rotated = cat([x2.neg(), x1], -1);
        return x * cos + rotated * sin;
    }

    /// <summary>Splits [B, T, H·D] into [B, H, T, D].</summary>
    public static Tensor SplitHeads(Tensor x, long heads, long headDim) =>
        x.view(x.shape[0], x.shape[1], heads, headDim).transpose(1, 2);

    /// <summary>Merges [B, H, T, D] into [B, T, H·D].</summary>
    public static Tensor MergeHeads(Tensor x) =>
        x.transpose(1, 2).contiguous().view(x.shape[0], x.shape[2], x.shape[1] * x.shape[3]);
}
