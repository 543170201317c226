using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Kit.Training;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter, 2019): Adam with weight decay applied to the weights directly rather than through
/// the gradient. Decay is skipped for one-dimensional parameters (biases and norm gains). The state is plain tensors
/// so checkpoints can hold it and resume exactly.
/// </summary>
public sealed class AdamW : IDisposable
{
    private readonly (string Name, Parameter P, bool Decay)[] _params;
    private readonly Dictionary<string, (Tensor M, Tensor V)> _state = new();

    /// <summary>Creates the optimizer over named parameters (only those that require gradients are updated).</summary>
    public AdamW(IEnumerable<(string Name, Parameter P)> parameters, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0.01)
    {
        _params = parameters.Where(p => p.P.requires_grad).Select(p => (p.Name, p.P, p.P.dim() >= 2)).ToArray();
        Beta1 = beta1; Beta2 = beta2; Eps = eps; WeightDecay = weightDecay;
    }

    /// <summary>First-moment decay.</summary>
    public double Beta1 { get; }
    /// <summary>Second-moment decay.</summary>
    public double Beta2 { get; }
    /// <summary>Denominator guard.</summary>
    public double Eps { get; }
    /// <summary>Decoupled weight decay coefficient.</summary>
    public double WeightDecay { get; }
    /// <summary>Number of updates taken.</summary>
    public long Step { get; private set; }

    /// <summary>The parameters being optimised.</summary>
    public IEnumerable<Parameter> Parameters => _params.Select(p => p.P);

    /// <summary>Applies one update with learning rate <paramref name="lr"/>.</summary>
    public void Update(double lr)
    {
        Step++;
        double bc1 = 1 - Math.Pow(Beta1, Step), bc2 = 1 - Math.Pow(Beta2, Step);
        using var _ = no_grad();
        foreach (var (name, p, decay) in _params)
        {
            if (p.grad is not { } g) continue;
            if (!_state.TryGetValue(name, out var s))
                _state[name] = s = (zeros_like(p).DetachFromDisposeScope(), zeros_like(p).DetachFromDisposeScope());
            using var scope = NewDisposeScope();
            if (decay && WeightDecay != 0) p.mul_(1 - lr * WeightDecay);
            s.M.mul_(Beta1).add_(g, alpha: 1 - Beta1);
            s.V.mul_(Beta2).addcmul_(g, g, value: 1 - Beta2);
            var denom = (s.V / bc2).sqrt_().add_(Eps);
            p.addcdiv_(s.M, denom, value: -lr / bc1);
        }
    }

    /// <summary>Clears the gradients of every optimised parameter.</summary>
    public void ZeroGrad()
    {
        foreach (var (_, p, _) in _params) p.grad?.zero_();
    }

    /// <summary>The optimizer state as named tensors (for checkpoints).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> StateTensors()
    {
        foreach (var (name, (m, v)) in _state)
        {
            yield return new($"{name}.exp_avg", m);
            yield return new($"{name}.exp_avg_sq", v);
        }
    }

    /// <summary>Restores the state saved by <see cref="StateTensors"/>.</summary>
    public void LoadState(long step, Func<string, Tensor?> read)
    {
        Dispose();
        Step = step;
        foreach (var (name, p, _) in _params)
        {
            var m = read($"{name}.exp_avg");
            var v = read($"{name}.exp_avg_sq");
            if (m is null || v is null) continue;
            _state[name] = (m.to(p.device).DetachFromDisposeScope(), v.to(p.device).DetachFromDisposeScope());
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (m, v) in _state.Values) { m.Dispose(); v.Dispose(); }
        _state.Clear();
    }
}
