using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Tests.Models;
using FineTune.Kit.Training;

namespace FineTune.Kit.Tests.Training;

public class TrainerSettingsTests
{
    private static readonly CausalLM Model = TinyModels.Random(TinyModels.Llama(), seed: 2);

    public static TheoryData<string, Action<Trainer>, string> BadSettings => new()
    {
        { "BatchSize", t => t.BatchSize(0), "1 or more; got 0" },
        { "LearningRate", t => t.LearningRate(0), "above 0; got 0" },
        { "LearningRate", t => t.LearningRate(double.NaN), "above 0; got NaN" },
        { "Epochs", t => t.Epochs(0), "1 or more" },
        { "Steps", t => t.Steps(-3), "1 or more; got -3" },
        { "GradientAccumulation", t => t.GradientAccumulation(0), "1 or more" },
        { "MaxSequenceLength", t => t.MaxSequenceLength(1), "2 or more; got 1" },
        { "WeightDecay", t => t.WeightDecay(-0.1), "0 or more; got -0.1" },
        { "WarmupSteps", t => t.Schedule(LrScheduleKind.Cosine, warmupSteps: -1), "0 or more" },
        { "ClipGradNorm", t => t.ClipGradNorm(0), "above 0" },
        { "EvaluateEvery", t => t.EvaluateEvery(-1), "0 or more" },
        { "EarlyStopping patience", t => t.EarlyStopping(0), "1 or more" },
        { "CheckpointEvery", t => t.CheckpointEvery(0, "ckpt"), "1 or more" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void Each_setter_refuses_a_bad_value_at_once_naming_the_setting_and_range(string setting, Action<Trainer> set, string expected)
    {
        // before the settings record, BatchSize(0) and friends were accepted here and failed (or looped) inside Fit
        var e = Assert.Throws<ArgumentException>(() => set(Trainer.For(Model)));
        Assert.StartsWith(setting + " must be", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void The_setters_fill_one_record_that_round_trips_through_json()
    {
        var settings = Trainer.For(Model).LearningRate(3e-3).BatchSize(4).GradientAccumulation(2).Steps(12)
            .Schedule(LrScheduleKind.Cosine, warmupSteps: 2).ClipGradNorm(null).Seed(9).Settings;
        Assert.Equal(new TrainerSettings
        {
            LearningRate = 3e-3, BatchSize = 4, GradientAccumulation = 2, Steps = 12, Schedule = LrScheduleKind.Cosine,
            WarmupSteps = 2, ClipGradNorm = null, Seed = 9,
        }, settings);
        Assert.Equal(settings, TrainerSettings.FromJson(settings.ToJson()));
        Assert.Contains("\"learning_rate\": 0.003", settings.ToJson());
        Assert.Equal(settings, Trainer.For(Model).AllSettings(settings).Settings);
    }

    [Fact]
    public void Resuming_with_another_learning_rate_or_batch_size_names_both_values_unless_forced()
    {
        var ckpt = TempFolder.Fresh();
        var data = Enumerable.Range(0, 8).Select(i => TokenizedExample.PromptCompletion([1 + i % 5, 2, 20], [11 + i % 5, 22])).ToList();
        using var model = TinyModels.Random(TinyModels.Llama(), seed: 2);
        model.AddLora(r: 2, targets: ["q_proj"], seed: 1);
        Trainer Configure(double lr, int batch) => Trainer.For(model).LearningRate(lr).BatchSize(batch).Steps(2).CheckpointEvery(1, ckpt);
        Configure(1e-3, 4).Fit(data);
        Assert.Equal(1e-3, Checkpoint.SettingsOf(Checkpoint.Latest(ckpt)!)!.LearningRate);

        var e = Assert.Throws<KitException>(() => Configure(2e-3, 2).Steps(3).Resume().Fit(data));
        Assert.Contains("learning rate: checkpoint 0.001, now 0.002", e.Message);
        Assert.Contains("batch size: checkpoint 4, now 2", e.Message);

        // more steps on the same settings is an ordinary resume; forcing accepts the change
        Assert.Equal(3, Configure(1e-3, 4).Steps(3).Resume().Fit(data).Steps);
        Assert.Equal(4, Configure(2e-3, 4).Steps(4).Resume(force: true).Fit(data).Steps);
    }
}
