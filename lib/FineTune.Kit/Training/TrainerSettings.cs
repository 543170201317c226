using System.Globalization;
using System.Text.Json;

namespace FineTune.Kit.Training;

/// <summary>
/// Everything that decides what a training run computes, as one record: the <see cref="Trainer"/>'s fluent setters
/// fill it, checking each value at once, and every checkpoint saves it, so a resumed run can refuse settings that
/// would silently change the run (<see cref="ResumeConflicts"/>).
/// </summary>
public sealed record TrainerSettings
{
    /// <summary>Peak learning rate (positive, finite).</summary>
    public double LearningRate { get; init; } = 2e-4;
    /// <summary>Whole passes over the data; null when <see cref="Steps"/> is set (one pass when both are null).</summary>
    public int? Epochs { get; init; }
    /// <summary>Optimizer steps; null when <see cref="Epochs"/> decides.</summary>
    public int? Steps { get; init; }
    /// <summary>Examples per micro-batch (at least 1).</summary>
    public int BatchSize { get; init; } = 8;
    /// <summary>Micro-batches per optimizer step (at least 1).</summary>
    public int GradientAccumulation { get; init; } = 1;
    /// <summary>Longest sequence in tokens (at least 2: one to read, one to predict).</summary>
    public int MaxSequenceLength { get; init; } = 256;
    /// <summary>Decoupled weight decay (0 or more).</summary>
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>Learning-rate schedule.</summary>
    public LrScheduleKind Schedule { get; init; } = LrScheduleKind.Linear;
    /// <summary>Linear warm-up steps (0 or more).</summary>
    public int WarmupSteps { get; init; }
    /// <summary>Global gradient-norm clip (positive), or null for none.</summary>
    public double? ClipGradNorm { get; init; } = 1.0;
    /// <summary>Validation every N steps; 0 evaluates only at the end.</summary>
    public int EvaluateEvery { get; init; }
    /// <summary>Evaluations without improvement before stopping early; null: no early stopping.</summary>
    public int? Patience { get; init; }
    /// <summary>Checkpoint every N steps; 0: no checkpoints.</summary>
    public int CheckpointEvery { get; init; }
    /// <summary>Where checkpoints go.</summary>
    public string? CheckpointDirectory { get; init; }
    /// <summary>Checkpoints kept (at least 1).</summary>
    public int KeepCheckpoints { get; init; } = 2;
    /// <summary>Continue from the newest checkpoint in <see cref="CheckpointDirectory"/>.</summary>
    public bool Resume { get; init; }
    /// <summary>Resume even when the checkpoint was written with different settings.</summary>
    public bool ForceResume { get; init; }
    /// <summary>Concatenate short examples up to the maximum length.</summary>
    public bool Packing { get; init; }
    /// <summary>Seed of data order and dropout.</summary>
    public int Seed { get; init; } = Seeds.Default;

    internal static double Positive(string setting, double value) =>
        double.IsFinite(value) && value > 0 ? value : throw Bad(setting, value, "a finite number above 0");

    internal static double NonNegative(string setting, double value) =>
        double.IsFinite(value) && value >= 0 ? value : throw Bad(setting, value, "a finite number of 0 or more");

    internal static int AtLeast(string setting, int value, int min) =>
        value >= min ? value : throw Bad(setting, value, $"an integer of {min} or more");

    private static ArgumentException Bad(string setting, object value, string expected) =>
        new($"{setting} must be {expected}; got {Format(value)}.", setting);

    /// <summary>
    /// The settings that would make a resumed run differ from an uninterrupted one, each named with the value in the
    /// checkpoint and the value asked for now. Step counts, evaluation and checkpoint cadence may change on resume.
    /// </summary>
    public IReadOnlyList<string> ResumeConflicts(TrainerSettings checkpoint)
    {
        var conflicts = new List<string>();
        void Compare(string name, object? saved, object? now)
        {
            if (!Equals(saved, now)) conflicts.Add($"{name}: checkpoint {Format(saved)}, now {Format(now)}");
        }
        Compare("learning rate", checkpoint.LearningRate, LearningRate);
        Compare("batch size", checkpoint.BatchSize, BatchSize);
        Compare("gradient accumulation", checkpoint.GradientAccumulation, GradientAccumulation);
        Compare("max sequence length", checkpoint.MaxSequenceLength, MaxSequenceLength);
        Compare("weight decay", checkpoint.WeightDecay, WeightDecay);
        Compare("schedule", checkpoint.Schedule, Schedule);
        Compare("warm-up steps", checkpoint.WarmupSteps, WarmupSteps);
        Compare("gradient clip", checkpoint.ClipGradNorm, ClipGradNorm);
        Compare("packing", checkpoint.Packing, Packing);
        Compare("seed", checkpoint.Seed, Seed);
        return conflicts;
    }

    private static string Format(object? value) => value switch
    {
        null => "none",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString()!,
    };

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>The settings as JSON (snake_case keys), as saved in <c>trainer_settings.json</c> of every checkpoint.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads settings written by <see cref="ToJson"/>; <paramref name="source"/> names the file in errors.</summary>
    public static TrainerSettings FromJson(string json, string source = "trainer settings")
    {
        try { return JsonSerializer.Deserialize<TrainerSettings>(json, Json) ?? throw new DataFormatException($"{source}: empty settings."); }
        catch (JsonException e) { throw new DataFormatException($"{source}: not valid trainer settings: {e.Message}", e); }
    }
}
