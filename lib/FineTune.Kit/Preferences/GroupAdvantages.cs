using static TorchSharp.torch;

namespace FineTune.Kit.Preferences;

/// <summary>How a completion's reward becomes an advantage relative to the other completions of its prompt.</summary>
public enum AdvantageKind
{
    /// <summary>GRPO: (r − group mean) / (group standard deviation + 1e-4); a group with equal rewards gets zeros.</summary>
    Grpo,
    /// <summary>RLOO: r minus the mean of the other k − 1 rewards of the group.</summary>
    Rloo,
}

/// <summary>Group-relative advantages and the KL estimate used by GRPO and RLOO.</summary>
public static class GroupAdvantages
{
    /// <summary>
    /// Advantages of rewards laid out group after group (each of <paramref name="groupSize"/> completions of one prompt).
    /// Both kinds sum to zero within every group.
    /// </summary>
    public static double[] Compute(IReadOnlyList<double> rewards, int groupSize, AdvantageKind kind)
    {
        if (groupSize < 2) throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize, "A group needs at least 2 completions to compare.");
        if (rewards.Count % groupSize != 0) throw new ArgumentException($"{rewards.Count} rewards do not split into groups of {groupSize}.");
        var result = new double[rewards.Count];
        for (int g = 0; g < rewards.Count; g += groupSize)
        {
            double mean = 0;
            for (int i = 0; i < groupSize; i++) mean += rewards[g + i];
            mean /= groupSize;
            double variance = 0;
            for (int i = 0; i < groupSize; i++) variance += Math.Pow(rewards[g + i] - mean, 2);
            double std = Math.Sqrt(variance / (groupSize - 1));   // the unbiased estimate, as torch.std
            for (int i = 0; i < groupSize; i++)
            {
                double r = rewards[g + i];
                result[g + i] = kind switch
                {
                    AdvantageKind.Grpo => (r - mean) / (std + 1e-4),
                    AdvantageKind.Rloo => r - (mean * groupSize - r) / (groupSize - 1),
                    _ => throw new ArgumentOutOfRangeException(nameof(kind)),
                };
            }
        }
        return result;
    }

    /// <summary>
    /// Per-token k3 estimate of KL(π ‖ π_ref) from tokens sampled from π: exp(d) − d − 1 with d = log π_ref − log π.
    /// Never negative, unbiased, and exactly zero where the two policies agree.
    /// </summary>
    public static Tensor KlK3(Tensor policyLogProbs, Tensor referenceLogProbs)
    {
        var d = referenceLogProbs - policyLogProbs;
        return d.exp() - d - 1;
    }
}
