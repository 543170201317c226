using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Kit.Models;

/// <summary>
/// A decoder-only transformer with a language-model head. The families implement it with modules named as Hugging
/// Face names them, so checkpoint keys load by name.
/// </summary>
public abstract class TransformerLM : KitModule
{
    /// <summary>Creates the module for a config.</summary>
    protected TransformerLM(string name, ModelConfig config) : base(name) => Config = config;

    /// <summary>The architecture.</summary>
    public ModelConfig Config { get; }

    /// <summary>Token embeddings [batch, time, hidden] (before positions are added, for GPT-2).</summary>
    public abstract Tensor EmbedTokens(Tensor inputIds);

    /// <summary>The token embedding matrix [vocab, hidden].</summary>
    public abstract Tensor EmbeddingMatrix { get; }

    /// <summary>
    /// Runs the model. Give token ids, or embeddings from <see cref="EmbedTokens"/> (gradient methods need them).
    /// <paramref name="attentionMask"/> is [batch, past + time] with 1 for real tokens and 0 for padding.
    /// With <paramref name="logitPositions"/> ([batch, time] booleans) the head runs only there and the logits come back
    /// flattened as [selected positions, vocab]: training on labels alone skips most of the vocabulary projection.
    /// </summary>
    public abstract ForwardOutput Forward(Tensor? inputIds, Tensor? attentionMask = null, KvCache? cache = null,
        bool outputHiddenStates = false, bool outputAttentions = false, Tensor? inputsEmbeds = null, Tensor? logitPositions = null);

    /// <summary>Final norm (optional) and output head applied to a hidden state: the logit lens.</summary>
    public abstract Tensor Head(Tensor hidden, bool applyFinalNorm);

    /// <summary>
    /// Activation checkpointing per block while training: each block keeps only its input and is recomputed in the
    /// backward pass (less memory for about a third more compute; same loss and gradients). Ignored without gradients,
    /// with a KV cache or when attention weights are asked for.
    /// </summary>
    public bool GradientCheckpointing { get; set; }

    /// <summary>Runs one block, checkpointed when <see cref="GradientCheckpointing"/> is on and this pass will be back-propagated.</summary>
    protected Tensor RunBlock(Tensor x, KvCache? cache, bool outputAttentions, Func<Tensor, Tensor> block) =>
        GradientCheckpointing && training && cache is null && !outputAttentions && is_grad_enabled()
            ? BlockCheckpoint.Run(x, block)
            : block(x);

    /// <summary>
    /// True once <see cref="CausalLM.StoreFrozenWeightsIn"/> stored weights in half precision to compute in float32:
    /// embeddings looked up from a half-precision table are widened at once, so every activation is float32.
    /// </summary>
    public bool ComputesInFloat32 { get; internal set; }

    /// <summary>Widens looked-up embeddings to float32 when <see cref="ComputesInFloat32"/>.</summary>
    protected Tensor ComputeType(Tensor embedded) =>
        ComputesInFloat32 && embedded.dtype is ScalarType.BFloat16 or ScalarType.Float16 ? embedded.to_type(ScalarType.Float32) : embedded;

    /// <summary>The blocks, in order (each a module holding attention and MLP).</summary>
    public abstract IReadOnlyList<KitModule> Blocks { get; }

    /// <summary>Maps a checkpoint key to this module's parameter name, or null for known non-parameter buffers.</summary>
    internal abstract string? CanonicalKey(string checkpointKey);

    /// <summary>The checkpoint key to write for a parameter.</summary>
    internal virtual string CheckpointKey(string parameterName) => parameterName;

    /// <summary>Creates the module for a config, with zero or one weights (call an initialiser afterwards).</summary>
    public static TransformerLM Create(ModelConfig config) => config.Family switch
    {
        ModelFamily.Gpt2 => new Gpt2LMHeadModel(config),
        ModelFamily.Gemma => new GemmaForCausalLM(config),
        _ => new LlamaForCausalLM(config),
    };
}
