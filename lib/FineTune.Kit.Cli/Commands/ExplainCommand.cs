using System.CommandLine;
using FineTune.Kit.Explain;
using Spectre.Console;

namespace FineTune.Kit.Cli.Commands;

/// <summary>
/// `ftk explain`: attributions of log p(target | text) to the words of the text, or the attention maps.
/// With --json prints {"tokens", "attributions", "base_value", "full_value", "method", …}.
/// </summary>
internal static class ExplainCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var text = Cli.Required<string>("--text", "The text to explain");
        var target = Cli.Required<string>("--target", "The continuation whose log-probability is explained (e.g. \" billing\")");
        var method = Cli.Optional("--method", "exact, shap, lime, ig, occlusion or attention", "shap");
        method.OneOf("exact", "shap", "lime", "ig", "occlusion", "attention");
        var samples = Cli.Optional("--samples", "Coalitions (shap) or samples (lime); 0: default", 0).AtLeast(0);
        var steps = Cli.Optional("--steps", "Integration points (ig)", 64).AtLeast(1);
        var seed = Cli.Optional("--seed", "Sampling seed", Seeds.Default).AtLeast(0);
        var prefix = Cli.Optional("--prefix", "Text before the explained text (not attributed)", "");
        var suffix = Cli.Optional("--suffix", "Text after the explained text (not attributed)", "");
        var output = new Option<string?>("--out") { Description = "Folder for report.html and report.json" }.FolderToWrite();
        var json = Cli.Optional("--json", "Print the result as JSON", false);
        var command = new Command("explain", "Explain which words drive the model's log-probability of a target");
        foreach (var o in m.All().Concat<Option>([text, target, method, samples, steps, seed, prefix, suffix, output, json])) command.Options.Add(o);
        command.Handle(parse =>
        {
            using var model = m.Load(parse);
            var name = parse.GetValue(method)!;
            if (name == "attention") return Attention(model, parse.GetValue(prefix)! + parse.GetValue(text)!, parse.GetValue(output), parse.GetValue(json));
            var options = new ExplainOptions
            {
                Method = name switch
                {
                    "exact" => ExplainMethod.Exact, "shap" => ExplainMethod.Shap, "lime" => ExplainMethod.Lime,
                    "ig" => ExplainMethod.IntegratedGradients, "occlusion" => ExplainMethod.Occlusion,
                    _ => throw new ArgumentException($"--method '{name}' is not one of exact, shap, lime, ig, occlusion, attention"),
                },
                Samples = parse.GetValue(samples), Steps = parse.GetValue(steps), Seed = parse.GetValue(seed),
                Prefix = parse.GetValue(prefix)!, Suffix = parse.GetValue(suffix)!,
            };
            var result = model.Explain(parse.GetValue(text)!, parse.GetValue(target)!, options);
            if (parse.GetValue(output) is { } dir) result.Save(dir);
            if (parse.GetValue(json)) { Console.WriteLine(result.ToJson()); return 0; }
            var table = new Table().AddColumn("word").AddColumn(new TableColumn("attribution").RightAligned());
            for (int i = 0; i < result.Values.Length; i++) table.AddRow(Markup.Escape(result.Features[i]), result.Values[i].ToString("+0.0000;-0.0000"));
            Cli.Out.Write(table);
            Console.WriteLine($"{result.Method}: base {result.BaseValue:F4} + sum {result.Sum:F4} = f(x) {result.FullValue:F4} (gap {result.EfficiencyGap:E1}), {result.Evaluations} evaluations");
            return 0;
        });
        return command;
    }

    private static int Attention(Models.CausalLM model, string text, string? output, bool json)
    {
        var (tokens, weights) = model.AttentionMaps(text);
        if (json)
        {
            Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new { tokens, attentions = weights }));
            return 0;
        }
        var rollout = AttentionMaps.Rollout(weights);
        if (output is not null)
        {
            new Plots.HtmlPage("Attention").Chart(AttributionCharts.RolloutHeatmap(weights, tokens)).Chart(AttributionCharts.HeadGrid(weights, tokens))
                .Save(Path.Combine(output, "attention.html"));
            Console.WriteLine($"wrote {Path.GetFullPath(Path.Combine(output, "attention.html"))}");
        }
        Console.WriteLine($"{weights.Length} layers x {weights[0].Length} heads over {tokens.Count} tokens; last token attends most (rollout) to: " +
                          string.Join(", ", rollout[^1].Select((w, i) => (w, i)).OrderByDescending(p => p.w).Take(3).Select(p => $"'{tokens[p.i]}' {p.w:F2}")));
        return 0;
    }
}
