using System.CommandLine;
using FineTune.Kit.Monitoring;

namespace FineTune.Kit.Cli.Commands;

/// <summary>`ftk monitor`: drift and health of served traffic, from the request log of `ftk serve --log`.</summary>
internal static class MonitorCommand
{
    public static Command Create()
    {
        var log = Cli.Required<string>("--log", "SQLite request log written by ftk serve --log");
        var reference = Cli.Required<string>("--reference", "Training data: a JSONL file with text (and label), a chat JSONL file (its user messages), or a folder with train.jsonl");
        var window = new Option<string?>("--window") { Description = "Recent traffic: the last N requests, or a duration back from the newest (30m, 1h, 2d); default all" };
        var output = new Option<string?>("--out") { Description = "Folder for report.html and report.json" };
        var json = new Option<bool>("--json") { Description = "Print {\"alerts\": [...], \"metrics\": {...}} instead of a summary" };
        var seed = Cli.Optional("--seed", "Seed of the sampling and permutations", Seeds.Default);
        var embedModel = new Option<string>("--embed-model") { Description = "Model folder: also test drift of its mean-pooled last hidden states (MMD)" }.ExistingFolder();
        var command = new Command("monitor", "Compare recent traffic with the training data: length and word drift, label mix, MMD, latency, errors");
        foreach (var o in new Option[] { log, reference, window, output, json, seed, embedModel }) command.Options.Add(o);
        command.Handle(parse =>
        {
            var rows = RequestLog.Read(parse.GetValue(log)!);
            using var model = parse.GetValue(embedModel) is { } embedDir ? Models.CausalLM.Load(embedDir, new Models.LoadOptions { Device = "cpu" }) : null;
            var report = DriftMonitor.Run(rows, DriftMonitor.ReadReference(parse.GetValue(reference)!), parse.GetValue(window),
                seed: parse.GetValue(seed), embed: model is null ? null : texts => model.Embed(texts));
            if (parse.GetValue(output) is { } dir)
            {
                report.Save(dir);
                Console.Error.WriteLine($"ftk monitor: wrote {Path.Combine(Path.GetFullPath(dir), "report.html")} and report.json");
            }
            if (parse.GetValue(json)) { Console.WriteLine(report.ToJson()); return 0; }
            Console.WriteLine($"{report.Metrics["recent_requests"]:0} recent requests of {report.Metrics["requests"]:0}; {report.Alerts.Count} alert(s)");
            foreach (var a in report.Alerts) Console.WriteLine($"ALERT {a.Check}: {a.Evidence} (threshold {a.Threshold:0.####})");
            foreach (var n in report.Notes) Console.WriteLine($"note: {n}");
            return 0;
        });
        return command;
    }
}
