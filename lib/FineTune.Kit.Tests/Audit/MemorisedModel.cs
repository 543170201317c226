using FineTune.Kit.Audit;
using FineTune.Kit.Models;
using FineTune.Kit.Tests.Models;
using FineTune.Kit.Text;
using FineTune.Kit.Training;

namespace FineTune.Kit.Tests.Audit;

/// <summary>
/// A small model trained far past the point of learning anything general on 16 made-up records and four canaries,
/// beside an untrained copy of the same model. The records are random (names, towns, numbers), so the held-out ones
/// share only their template with the training ones: whatever the model writes of a record's rest beyond the
/// template, it can only have memorised.
/// </summary>
public sealed class MemorisedModel : IDisposable
{
    /// <summary>The test collection that shares one trained model.</summary>
    public const string Collection = "memorised model";

    private static readonly string[] Names = ["Ada", "Bram", "Cleo", "Dario", "Edda", "Finn", "Greta", "Hugo", "Ines", "Jonas", "Kira", "Lars", "Mila", "Noor", "Otto", "Pia"];
    private static readonly string[] Towns = ["Arnhem", "Bergen", "Cork", "Dijon", "Essen", "Faro", "Gent", "Hamar", "Ibiza", "Jena", "Kiel", "Lille"];
    private static readonly string[] Things = ["router", "camera", "thermostat", "parcel", "invoice", "doorbell"];

    public MemorisedModel()
    {
        var rng = new Random(7);
        string Record() => $"{Names[rng.Next(Names.Length)]} from {Towns[rng.Next(Towns.Length)]} says the {Things[rng.Next(Things.Length)]} " +
                           $"failed with code {rng.Next(100, 1000)} after {rng.Next(2, 60)} days";
        Train = Enumerable.Range(0, 16).Select(_ => Record()).ToList();
        HeldOut = Enumerable.Range(0, 16).Select(_ => Record()).ToList();
        Canaries = CanarySet.Create(inserted: 3, controls: 4, seed: 11, repeats: 2);
        Tokenizer = new BpeTrainer().VocabSize(400).SpecialTokens("<|endoftext|>")
            .Train([.. Train, .. HeldOut, "my code is 0 1 2 3 4 5 6 7 8 9"]).ToTokenizer();
        var config = ModelConfig.Llama(Tokenizer.VocabSize, 64, 2, 4, 2, 128, maxPositions: 96, tied: true) with { PadTokenId = 0, EosTokenIds = [0] };
        Untrained = TinyModels.Random(config, seed: 3);
        Untrained.Tokenizer = Tokenizer;
        Trained = TinyModels.Random(config, seed: 3);
        Trained.Tokenizer = Tokenizer;
        Trained.UnfreezeAll();
        var texts = Train.Concat(Canaries.Inserted.SelectMany(c => Enumerable.Repeat(c.Text, Canaries.Repeats)));
        var data = texts.Select(t => TokenizedExample.AllTokens(Tokenizer.Encode(t).Select(i => (long)i).ToArray())).ToList();
        Run = Trainer.For(Trained).LearningRate(1e-2).Schedule(LrScheduleKind.Constant).WeightDecay(0).Steps(400).BatchSize(8).Seed(1).Fit(data);
        Trained.Train(false);
    }

    /// <summary>The records trained on.</summary>
    public IReadOnlyList<string> Train { get; }
    /// <summary>Records of the same template never trained on.</summary>
    public IReadOnlyList<string> HeldOut { get; }
    /// <summary>Three canaries trained on (twice each) and four controls.</summary>
    public CanarySet Canaries { get; }
    /// <summary>The tokenizer both models share.</summary>
    public TextTokenizer Tokenizer { get; }
    /// <summary>The model over-trained on <see cref="Train"/> and the inserted canaries.</summary>
    public CausalLM Trained { get; }
    /// <summary>The same initial weights, never trained.</summary>
    public CausalLM Untrained { get; }
    /// <summary>The training run.</summary>
    public TrainingRun Run { get; }

    public void Dispose()
    {
        Trained.Dispose();
        Untrained.Dispose();
    }
}

/// <summary>Trains the model once for every test class that uses it.</summary>
[CollectionDefinition(MemorisedModel.Collection)]
public sealed class MemorisedModelCollection : ICollectionFixture<MemorisedModel>;
