using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Preferences;
using static TorchSharp.torch;

namespace FineTune.Kit.Cli.Commands;

/// <summary>
/// `ftk preferences --model DIR [--adapter DIR] --data FILE --json`: for each preference pair, the response
/// log-probabilities given the prompt under the policy (with the adapter) and the reference (without it), and the
/// reward head's scores when the adapter carries one; accuracy by the reward model's score when there is a head,
/// otherwise by the implicit DPO reward.
/// </summary>
internal static class PreferencesCommand
{
    public static Command Create()
    {
        var model = Cli.Required<string>("--model", "Hugging Face model folder (config.json + *.safetensors + tokenizer)");
        var adapter = new Option<string?>("--adapter") { Description = "PEFT LoRA adapter folder (a reward model's carries the score head in modules_to_save)" };
        var device = Cli.Optional("--device", "auto, cpu or cuda", "auto");
        var data = Cli.Required<string>("--data", "Preference JSONL: {\"prompt\", \"chosen\", \"rejected\"} rows");
        var json = Cli.Optional("--json", "Print {\"accuracy\", \"mean_margin\", \"pairs\": [...]}", false);
        var command = new Command("preferences", "Score preference pairs: policy and reference log-probabilities, reward-model scores, accuracy");
        foreach (var o in new Option[] { model, adapter, device, data, json }) command.Options.Add(o);
        command.Subcommands.Add(PreferencesCompareCommand.Create());
        command.Handle(parse =>
        {
            using var lm = PreferenceModels.Load(parse.GetValue(model)!, parse.GetValue(adapter), parse.GetValue(device)!, out var reward);
            var pairs = PreferenceData.From(parse.GetValue(data)!, lm.RequireTokenizer(), lm.Config.MaxPositions);
            if (pairs.Truncated.Count > 0) Console.Error.WriteLine($"ftk preferences: note: {pairs.Summary()}");
            var report = Score(lm, reward, pairs);
            if (parse.GetValue(json)) Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
            else
                Console.WriteLine($"{pairs.Count} pairs: accuracy {report["accuracy"]!.GetValue<double>():P1} by the {(reward is null ? "implicit DPO reward" : "reward model's score")}, " +
                                  $"mean margin {report["mean_margin"]!.GetValue<double>():F4}");
            return 0;
        });
        return command;
    }

    private static JsonObject Score(CausalLM model, RewardModel? reward, PreferenceData data)
    {
        var rows = new JsonArray();
        var margins = new List<double>();
        model.Module.eval();
        foreach (var pair in data.Pairs)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            (long[], long[])[] seqs = [(pair.Prompt, pair.Chosen), (pair.Prompt, pair.Rejected)];
            float[] policy, reference;
            using (var lp = ResponseLogProbs.Compute(model, seqs)) policy = lp.Summed().cpu().data<float>().ToArray();
            using (ReferencePolicy.Disabled(model))
            using (var lp = ResponseLogProbs.Compute(model, seqs)) reference = lp.Summed().cpu().data<float>().ToArray();
            double[]? scores = reward?.Score(seqs);
            margins.Add(scores is not null ? scores[0] - scores[1] : (policy[0] - reference[0]) - (policy[1] - reference[1]));
            rows.Add(new JsonObject
            {
                ["prompt_ids"] = Ids(pair.Prompt), ["chosen_ids"] = Ids(pair.Chosen), ["rejected_ids"] = Ids(pair.Rejected),
                ["logp_chosen"] = policy[0], ["logp_rejected"] = policy[1],
                ["ref_logp_chosen"] = reference[0], ["ref_logp_rejected"] = reference[1],
                ["score_chosen"] = scores is null ? null : JsonValue.Create(scores[0]),
                ["score_rejected"] = scores is null ? null : JsonValue.Create(scores[1]),
            });
        }
        return new JsonObject
        {
            ["accuracy"] = margins.Count(m => m > 0) / (double)margins.Count,
            ["mean_margin"] = margins.Average(),
            ["pairs"] = rows,
        };
    }

    private static JsonArray Ids(long[] ids) => new(ids.Select(i => (JsonNode)JsonValue.Create(i)).ToArray());
}

/// <summary>Loading a policy or reward model for the preference commands.</summary>
internal static class PreferenceModels
{
    /// <summary>
    /// Loads the model and, when given, the adapter; an adapter whose modules_to_save names the score head gets the
    /// head attached first, and <paramref name="reward"/> is then the reward model.
    /// </summary>
    public static CausalLM Load(string modelDir, string? adapterDir, string device, out RewardModel? reward)
    {
        reward = null;
        var model = CausalLM.Load(modelDir, new LoadOptions { Device = device });
        try
        {
            if (adapterDir is not null)
            {
                if (LoraConfig.Load(adapterDir).ModulesToSave.Contains(RewardModel.HeadName)) reward = RewardModel.Attach(model);
                model.LoadAdapter(adapterDir);
            }
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
