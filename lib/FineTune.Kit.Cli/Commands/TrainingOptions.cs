using System.CommandLine;

namespace FineTune.Kit.Cli.Commands;

/// <summary>
/// The training settings shared by `ftk train`, `ftk pretrain` and `ftk bench forward|train`, under one name each
/// (--batch-size, --seq-len; the older --batch and --seq still parse, hidden) and with one set of range checks.
/// Each command adds the ones it uses; their defaults are the command's own.
/// </summary>
internal sealed class TrainingOptions
{
    public TrainingOptions(int? steps = null, double learningRate = 2e-4, int batchSize = 8, int seqLen = 256, int seed = Seeds.Default)
    {
        Steps = new Option<int?>("--steps") { Description = "Optimizer steps", DefaultValueFactory = _ => steps }.AtLeast(1);
        Epochs = new Option<int?>("--epochs") { Description = "Passes over the data (default 1)" }.AtLeast(1);
        LearningRate = Cli.Optional("--lr", "Peak learning rate", learningRate).Positive();
        BatchSize = Cli.Optional("--batch-size", "Examples per micro-batch", batchSize, "--batch").AtLeast(1);
        GradientAccumulation = Cli.Optional("--grad-accum", "Micro-batches per optimizer step", 1).AtLeast(1);
        SeqLen = Cli.Optional("--seq-len", "Longest sequence in tokens", seqLen, "--seq").AtLeast(2);
        Seed = Cli.Optional("--seed", "Seed of initialisation, data order and dropout", seed).AtLeast(0);
    }

    public Option<int?> Steps { get; }
    public Option<int?> Epochs { get; }
    public Option<double> LearningRate { get; }
    public Option<int> BatchSize { get; }
    public Option<int> GradientAccumulation { get; }
    public Option<int> SeqLen { get; }
    public Option<int> Seed { get; }
}
