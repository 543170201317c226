using System.CommandLine;
using FineTune.Kit.Models;
using static TorchSharp.torch;

namespace FineTune.Kit.Cli.Commands;

/// <summary>
/// `ftk train`'s memory savers: --base-dtype bfloat16 (frozen base weights stored in bfloat16, computed in float32),
/// --gradient-checkpointing (blocks recomputed in the backward pass) and --packing (short examples share rows
/// without attending across each other). None changes what is learnt beyond rounding; each is measured by
/// `ftk bench train --compare`.
/// </summary>
internal sealed class MemoryOptions
{
    public Option<string> BaseDtype { get; } = Cli.Optional("--base-dtype", "Frozen base weights under a LoRA adapter: float32, or bfloat16 (half the memory; computed in float32)", "float32").OneOf("float32", "bfloat16");
    public Option<bool> GradientCheckpointing { get; } = Cli.Optional("--gradient-checkpointing", "Recompute each block in the backward pass: less memory, about a third more compute", false);
    public Option<bool> Packing { get; } = Cli.Optional("--packing", "sft: pack short examples into rows of --seq-len (attention stays within each example)", false);

    public IEnumerable<Option> All => [BaseDtype, GradientCheckpointing, Packing];

    /// <summary>Refuses combinations that cannot work, in one line each.</summary>
    public void Check(Command command, Option<bool> full, Option<string> objective) => command.Validators.Add(c =>
    {
        if (c.GetResult(BaseDtype) is { Implicit: false } && c.GetValue(BaseDtype) == "bfloat16" && c.GetValue(full))
            c.AddError("--base-dtype bfloat16 stores the frozen base under a LoRA adapter; with --full every weight trains and stays float32");
        // a default is not in the parse tree while it is checked
        string chosen = c.GetResult(objective) is { Implicit: false } given ? given.GetValueOrDefault<string>() ?? "sft" : "sft";
        if (c.GetValue(Packing) && chosen != "sft")
            c.AddError($"--packing is for --objective sft; {chosen} scores whole responses, one per row");
    });

    /// <summary>Applies the switches to a model whose adapter (if any) is in place.</summary>
    public void Apply(ParseResult parse, CausalLM model)
    {
        model.GradientCheckpointing = parse.GetValue(GradientCheckpointing);
        if (parse.GetValue(BaseDtype) == "bfloat16")
        {
            long freed = model.StoreFrozenWeightsIn(ScalarType.BFloat16);
            Console.WriteLine($"frozen base stored in bfloat16: {freed / 1048576.0:F1} MB less");
        }
    }
}
