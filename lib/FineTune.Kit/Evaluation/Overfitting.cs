using System.Globalization;

namespace FineTune.Kit.Evaluation;

/// <summary>One logged point of a training run; <paramref name="ValLoss"/> is null at steps without a validation pass.</summary>
public sealed record TrainingRecord(int Step, double TrainLoss, double? ValLoss);

/// <summary>What a training history says about over-fitting.</summary>
/// <param name="BestValidationStep">Step of the lowest validation loss: where validation stopped improving.</param>
/// <param name="BestValidationLoss">The lowest validation loss.</param>
/// <param name="FinalStep">Last step with a validation loss.</param>
/// <param name="FinalTrainLoss">Training loss at that step.</param>
/// <param name="FinalValidationLoss">Validation loss at that step.</param>
/// <param name="Gap">Final validation loss − final training loss.</param>
/// <param name="RelativeGap">Gap / final training loss.</param>
/// <param name="ValidationRise">Final validation loss − best validation loss (≥ 0).</param>
/// <param name="IsOverfitting">True when validation loss rose above its best while training loss kept falling, or the gap is large.</param>
/// <param name="Summary">One or two sentences a user can act on.</param>
public sealed record OverfittingDiagnosis(int BestValidationStep, double BestValidationLoss, int FinalStep, double FinalTrainLoss,
    double FinalValidationLoss, double Gap, double RelativeGap, double ValidationRise, bool IsOverfitting, string Summary);

/// <summary>Reads a training history (step, train loss, validation loss) and flags over-fitting.</summary>
public static class Overfitting
{
    /// <summary>
    /// Diagnoses the history. The run is flagged when the last validation loss exceeds the best one by more than
    /// <paramref name="riseTolerance"/> (relative) while training loss is lower than at the best step, or when the final
    /// validation loss exceeds training loss by more than <paramref name="gapTolerance"/> (relative to training loss).
    /// </summary>
    public static OverfittingDiagnosis Diagnose(IReadOnlyList<TrainingRecord> history, double riseTolerance = 0.02, double gapTolerance = 0.5)
    {
        var withVal = history.Where(r => r.ValLoss is not null).OrderBy(r => r.Step).ToArray();
        if (withVal.Length == 0) throw new ArgumentException("the training history has no validation loss: cannot diagnose over-fitting");
        for (var i = 0; i < history.Count; i++)
            if (!double.IsFinite(history[i].TrainLoss) || history[i].ValLoss is { } v && !double.IsFinite(v))
                throw new ArgumentException($"training record {i} (step {history[i].Step}) has a non-finite loss");

        // the first occurrence of the minimum: later equal values are not an improvement
        var best = withVal.Aggregate((a, b) => b.ValLoss < a.ValLoss ? b : a);
        var last = withVal[^1];
        var bestVal = best.ValLoss!.Value;
        var lastVal = last.ValLoss!.Value;
        var gap = lastVal - last.TrainLoss;
        var relGap = last.TrainLoss > 0 ? gap / last.TrainLoss : double.PositiveInfinity;
        var rise = lastVal - bestVal;
        var rising = rise > riseTolerance * Math.Abs(bestVal) && last.TrainLoss < best.TrainLoss;
        var wide = relGap > gapTolerance;
        var inv = CultureInfo.InvariantCulture;
        string summary;
        if (rising)
            summary = string.Create(inv,
                $"Over-fitting: validation loss stopped improving at step {best.Step} ({bestVal:0.####}) and rose to {lastVal:0.####} by step {last.Step} while training loss kept falling ({best.TrainLoss:0.####} → {last.TrainLoss:0.####}). Keep the checkpoint from step {best.Step}, stop earlier, or add regularisation (dropout, weight decay, smaller LoRA rank, more data).");
        else if (wide)
            summary = string.Create(inv,
                $"Large generalisation gap: validation loss {lastVal:0.####} is {relGap:P0} above training loss {last.TrainLoss:0.####} at step {last.Step}. Validation has not yet turned upwards (best at step {best.Step}), but watch it.");
        else if (best.Step == last.Step)
            summary = string.Create(inv, $"No over-fitting: validation loss was still improving at the last step ({last.Step}, {lastVal:0.####}); more training may help.");
        else
            summary = string.Create(inv, $"No clear over-fitting: validation loss plateaued after step {best.Step} ({bestVal:0.####}); the final value {lastVal:0.####} is within tolerance.");
        return new OverfittingDiagnosis(best.Step, bestVal, last.Step, last.TrainLoss, lastVal, gap, relGap, rise, rising || wide, summary);
    }
}
