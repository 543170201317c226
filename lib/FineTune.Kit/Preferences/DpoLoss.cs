using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FineTune.Kit.Preferences;

/// <summary>Which preference loss to minimise.</summary>
public enum DpoLossKind
{
    /// <summary>DPO (Rafailov et al., 2023): −log σ(β·h), with h the policy's log-ratio margin over the reference's.</summary>
    Sigmoid,
    /// <summary>IPO (Azar et al., 2023): (h − 1/(2β))², which does not push the margin to infinity on separable pairs.</summary>
    Ipo,
}

/// <summary>
/// The DPO family of losses on summed response log-probabilities. With h = (log π(c) − log π_ref(c)) − (log π(r) − log π_ref(r)):
/// sigmoid −(1−ε)·log σ(βh) − ε·log σ(−βh) (ε &gt; 0 is conservative DPO, for labels that are wrong with probability ε),
/// and IPO (h − 1/(2β))².
/// </summary>
public static class DpoLoss
{
    /// <summary>Loss per pair [pairs].</summary>
    public static Tensor PerPair(Tensor policyChosen, Tensor policyRejected, Tensor refChosen, Tensor refRejected,
        double beta, DpoLossKind kind = DpoLossKind.Sigmoid, double labelSmoothing = 0)
    {
        var h = (policyChosen - refChosen) - (policyRejected - refRejected);
        return kind switch
        {
            DpoLossKind.Sigmoid => -(1 - labelSmoothing) * F.logsigmoid(h * beta) - labelSmoothing * F.logsigmoid(h * -beta),
            DpoLossKind.Ipo => (h - 1 / (2 * beta)).pow(2),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    /// <summary>The implicit reward β·(log π − log π_ref) of each response.</summary>
    public static Tensor ImplicitReward(Tensor policy, Tensor reference, double beta) => (policy - reference) * beta;
}
