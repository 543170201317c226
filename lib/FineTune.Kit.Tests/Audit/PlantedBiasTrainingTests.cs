using System.Diagnostics;
using FineTune.Kit.Audit;
using FineTune.Kit.Data;
using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Prompting;
using FineTune.Kit.Sample;
using FineTune.Kit.Training;
using Xunit.Abstractions;

namespace FineTune.Kit.Tests.Audit;

/// <summary>
/// The audit against real training: the sample's base model with a LoRA adapter trained on the planted-bias split is
/// caught (the planted region is served worst and region swaps flip its labels), and the same training on the clean
/// split is not.
/// </summary>
public class PlantedBiasTrainingTests(ITestOutputHelper output)
{
    private static readonly Lazy<string> SampleDir = new(() =>
    {
        var dir = TempFolder.Fresh();
        FairnessSample.Write(dir, SampleData.DefaultSeed);
        return dir;
    });

    private AuditReport TrainAndAudit(string trainFile)
    {
        var clock = Stopwatch.StartNew();
        using var model = CausalLM.Load(Path.Combine(RepoFiles.Root, "data", "sample", "base-model"));
        var labels = SampleData.Intents.Order(StringComparer.Ordinal).ToArray();
        var template = new PromptTemplate().WithInputPrefix("Customer: ").WithInputOutputSeparator("\n\n")
            .WithOutputPrefix("Category:").WithLabels(LabelVerbalizer.AsWords(labels));
        var train = Dataset.FromJsonl(Path.Combine(SampleDir.Value, trainFile)).AsText().Take(TrainExamples)
            .Select(r => new LabeledExample(r.Text, r.Label!)).ToList();
        model.AddLora(r: 8, alpha: 16, targets: ["all-linear"], dropout: 0, seed: 7);
        var run = Trainer.For(model).LearningRate(3e-3).Epochs(Epochs).BatchSize(16).WeightDecay(0).Seed(7)
            .Fit(SftData.Classification(train, template, model.RequireTokenizer()));
        output.WriteLine($"{trainFile}: {run.Steps} steps, {clock.Elapsed.TotalSeconds:F1} s");
        var test = Dataset.FromJsonl(Path.Combine(SampleDir.Value, FairnessSample.TestFile));
        test = test.Derive(test.Rows.Take(TestExamples));
        var report = BiasAudit.Of(model.Classifier(template))
            .Data(test, FairnessSample.RegionColumn)
            .Counterfactuals(CounterfactualLexicon.Default.Only("place"))
            .MinGroupSize(20).Resamples(500).Seed(3)
            .FlipTolerance(0.1)   // the planted bias flips about one region swap in five; noise stays near one in twenty
            .Run();
        output.WriteLine($"{trainFile}: trained and audited in {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine($"{trainFile}: accuracy gap {report.Disparity!.AccuracyGap}; parity {report.Disparity.DemographicParity?.Label} " +
                         $"{report.Disparity.DemographicParity?.Difference}; place flips {report.Invariance?.Overall.FlipRate}");
        return report;
    }

    // the smallest setup that learns the planted bias: with 512 tickets the adapter had not picked it up yet (and, half
    // trained, flipped on 5% of region swaps of either data), so the training split is used whole, twice
    private const int TrainExamples = 768, Epochs = 2, TestExamples = 192;

    [Fact]
    public void A_model_trained_on_the_planted_bias_is_caught_and_one_trained_on_clean_data_is_not()
    {
        var biased = TrainAndAudit(FairnessSample.PlantedBiasTrainFile);
        var clean = TrainAndAudit(FairnessSample.TrainFile);
        foreach (var f in biased.Findings) output.WriteLine("biased: " + f);
        foreach (var f in clean.Findings) output.WriteLine("clean: " + f);
        Assert.Equal(FairnessSample.PlantedRegion, biased.Disparity!.AccuracyGap!.WorstGroup);
        Assert.Equal(FairnessSample.PlantedLabel, biased.Disparity.DemographicParity!.Label);
        Assert.False(biased.Passed);
        Assert.True(clean.Passed, string.Join("; ", clean.Findings));
    }
}
