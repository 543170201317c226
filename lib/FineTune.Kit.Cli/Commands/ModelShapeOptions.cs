using System.CommandLine;

namespace FineTune.Kit.Cli.Commands;

/// <summary>
/// The shape of a Llama-family model built from scratch, shared by `ftk pretrain` and `ftk bench forward|train`:
/// --layers, --hidden, --heads, --kv-heads, --ffn and --vocab-size (the older --vocab still parses, hidden).
/// </summary>
internal sealed class ModelShapeOptions(int layers, int hidden, int heads, int kvHeads, int ffn, int vocabSize)
{
    public Option<int> Layers { get; } = Cli.Optional("--layers", "Transformer blocks", layers).AtLeast(1);
    public Option<int> Hidden { get; } = Cli.Optional("--hidden", "Residual width", hidden).AtLeast(1);
    public Option<int> Heads { get; } = Cli.Optional("--heads", "Query heads", heads).AtLeast(1);
    public Option<int> KvHeads { get; } = Cli.Optional("--kv-heads", "Key/value heads", kvHeads).AtLeast(1);
    public Option<int> Ffn { get; } = Cli.Optional("--ffn", "MLP width", ffn).AtLeast(1);
    // 256 byte symbols plus room for merges and special tokens
    public Option<int> VocabSize { get; } = Cli.Optional("--vocab-size", "Vocabulary size", vocabSize, "--vocab").AtLeast(260);

    public IEnumerable<Option> All => [Layers, Hidden, Heads, KvHeads, Ffn, VocabSize];

    private static int? Given(System.CommandLine.Parsing.CommandResult c, Option<int> option) =>
        c.GetResult(option) is { Implicit: false } r && !r.Errors.Any() ? r.GetValueOrDefault<int>() : null;

    /// <summary>Refuses head counts the attention cannot split evenly, naming both values.</summary>
    public void CheckHeads(Command command) => command.Validators.Add(c =>
    {
        // defaults are not in the parse tree yet while it is checked, so they come from here
        int h = Given(c, Hidden) ?? hidden, q = Given(c, Heads) ?? heads, kv = Given(c, KvHeads) ?? kvHeads;
        if (q < 1 || kv < 1 || h < 1) return;
        if (h % q != 0) c.AddError($"--hidden {h} must be a multiple of --heads {q} (each head gets hidden / heads dimensions)");
        else if (q % kv != 0) c.AddError($"--heads {q} must be a multiple of --kv-heads {kv} (query heads share key/value heads in equal groups)");
        else if ((h / q) % 2 != 0) c.AddError($"--hidden / --heads = {h / q} must be even (rotary position embedding rotates pairs)");
    });
}
