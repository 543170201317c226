using FineTune.Kit.Preferences;
using Plotly.NET;

namespace FineTune.Kit.Tests.Preferences;

/// <summary>PreferenceHistory.Charts(): each objective's own charts, drawn from the logged figures as they are.</summary>
public class PreferenceHistoryChartTests
{
    private static PreferenceHistory History(params (string Name, double[] Values)[] figures)
    {
        var history = new PreferenceHistory();
        for (int i = 0; i < figures[0].Values.Length; i++)
            history.Add(new PreferenceStep
            {
                Step = i + 1, Loss = 1.0 / (i + 1), Lr = 1e-3, GradNorm = 1,
                Values = figures.ToDictionary(f => f.Name, f => f.Values[i]),
            });
        return history;
    }

    private static string TitleOf(GenericChart chart) =>
        (string)((DynamicObj.DynamicObj)GenericChart.getLayout(chart).GetPropertyValue("title")).GetPropertyValue("text");

    private static List<Trace> Traces(GenericChart chart) => GenericChart.getTraces(chart).ToList();

    private static double?[] Y(Trace t) => (double?[])t.GetPropertyValue("y");

    [Fact]
    public void Dpo_histories_chart_the_implicit_rewards_with_their_margin_and_the_accuracy()
    {
        var charts = History(("rewards/chosen", [0, 0.2, 0.5]), ("rewards/rejected", [0, -0.1, -0.3]), ("rewards/accuracies", [0, 0.75, 1]),
            ("rewards/margins", [0, 0.3, 0.8]), ("logps/chosen", [-9, -8, -7]), ("logps/rejected", [-9, -10, -11])).Charts();
        // loss, the rewards with their margin, the accuracy, then the two log-probabilities one chart each
        Assert.Equal(5, charts.Count);
        Assert.StartsWith("DPO: implicit rewards", TitleOf(charts[1]));
        Assert.Equal(["rewards/chosen", "rewards/rejected", "rewards/margins"], Traces(charts[1]).Select(t => (string)t.GetPropertyValue("name")));
        Assert.Equal([0, 0.3, 0.8], Y(Traces(charts[1])[2]));
        Assert.Equal([0, 0.75, 1], Y(Traces(charts[2]).Single()));
        Assert.Equal(["logps/chosen", "logps/rejected"], charts.Skip(3).Select(TitleOf));
    }

    [Fact]
    public void Grpo_histories_chart_the_mean_reward_with_its_spread_beside_best_of_n_and_the_kl()
    {
        var charts = History(("reward", [0.25, 0.5]), ("reward_std", [0.5, 0.25]), ("best_of_n_reward", [1, 1]), ("kl", [0, 0.02]),
            ("entropy", [2.5, double.NaN]), ("completion_length", [4, 4]), ("clip_ratio", [0, 0])).Charts();
        Assert.Equal(6, charts.Count);                        // loss, reward, KL, then entropy, length and clip ratio
        var reward = Traces(charts[1]);
        Assert.Equal(["reward + std", "± 1 std", "mean reward", "best of n (reranking the same samples)"], reward.Select(t => (string)t.GetPropertyValue("name")));
        Assert.Equal([0.75, 0.75], Y(reward[0]));             // mean + std, by hand
        Assert.Equal([-0.25, 0.25], Y(reward[1]));            // mean − std
        Assert.Equal("tonexty", reward[1].GetPropertyValue("fill"));
        Assert.Equal([0.25, 0.5], Y(reward[2]));
        Assert.Equal([1.0, 1.0], Y(reward[3]));
        Assert.StartsWith("KL to the reference", TitleOf(charts[2]));
        Assert.Equal(["entropy", "completion_length", "clip_ratio"], charts.Skip(3).Select(TitleOf));
    }

    [Fact]
    public void Reward_model_histories_chart_scores_with_the_margin_and_the_accuracy()
    {
        var charts = History(("accuracy", [0.5, 1]), ("margin", [0.1, 0.9]), ("rewards/chosen", [0.2, 0.6]), ("rewards/rejected", [0.1, -0.3])).Charts();
        Assert.Equal(3, charts.Count);
        Assert.Equal(["rewards/chosen", "rewards/rejected", "margin"], Traces(charts[1]).Select(t => (string)t.GetPropertyValue("name")));
        Assert.Equal([0.5, 1.0], Y(Traces(charts[2]).Single()));
        Assert.Contains("share of pairs whose chosen reply scores higher", TitleOf(charts[2]));
    }

    [Fact]
    public void The_json_round_trips_with_missing_figures_as_nan()
    {
        var history = History(("reward", [0.25, 0.5]), ("entropy", [2.5, double.NaN]));
        var read = PreferenceHistory.FromJson(history.ToJson());
        Assert.Equal(history.ToJson(), read.ToJson());
        Assert.True(double.IsNaN(read.Steps[1]["entropy"]));
        Assert.Equal(0.5, read.Steps[1]["reward"]);
        Assert.Throws<DataFormatException>(() => PreferenceHistory.FromJson("[{\"loss\": 1}]", "h.json"));
    }
}
