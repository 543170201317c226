namespace FineTune.Kit.Training;

/// <summary>The shape of the learning rate over training.</summary>
public enum LrScheduleKind
{
    /// <summary>Flat after warm-up.</summary>
    Constant,
    /// <summary>Linear decay to zero after warm-up.</summary>
    Linear,
    /// <summary>Half-cosine decay to zero after warm-up.</summary>
    Cosine,
}

/// <summary>Learning rate at a step: linear warm-up from zero, then the chosen decay.</summary>
public sealed record LrSchedule(LrScheduleKind Kind, double PeakLr, int WarmupSteps, int TotalSteps)
{
    /// <summary>The rate for update number <paramref name="step"/> (0-based).</summary>
    public double At(int step)
    {
        if (WarmupSteps > 0 && step < WarmupSteps) return PeakLr * (step + 1) / WarmupSteps;
        int decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        double progress = Math.Clamp((double)(step - WarmupSteps) / decaySteps, 0, 1);
        return Kind switch
        {
            LrScheduleKind.Constant => PeakLr,
            LrScheduleKind.Linear => PeakLr * (1 - progress),
            LrScheduleKind.Cosine => PeakLr * 0.5 * (1 + Math.Cos(Math.PI * progress)),
            _ => throw new ArgumentOutOfRangeException(nameof(Kind)),
        };
    }
}
