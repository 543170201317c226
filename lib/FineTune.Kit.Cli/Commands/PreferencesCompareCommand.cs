using System.CommandLine;
using System.Globalization;
using FineTune.Kit.Demo;
using Spectre.Console;

namespace FineTune.Kit.Cli.Commands;

/// <summary>
/// `ftk preferences compare [--data DIR] [--out DIR] [--json]`: on the sample, train SFT on replies, SFT + DPO and
/// SFT + reward model + GRPO, answer held-out tickets with each (and the base model), and score the replies with the
/// reply-relevance judge; reward-model and DPO metrics on held-out pairs, easy and hard negatives apart.
/// </summary>
internal static class PreferencesCompareCommand
{
    public static Command Create()
    {
        var d = new PreferenceStoryOptions();
        var data = Cli.Optional("--data", "Folder with the sample data and base-model/", d.DataDirectory);
        var output = new Option<string?>("--out") { Description = "Folder for report.html and report.json" };
        var json = Cli.Optional("--json", "Print report.json instead of the tables", false);
        var tickets = Cli.Optional("--tickets", "Held-out tickets each approach answers", d.TestTickets).AtLeast(2);
        var sftReplies = Cli.Optional("--sft-replies", "Ticket → reply examples for SFT", d.SftReplies).AtLeast(1);
        var heldOutPairs = Cli.Optional("--held-out-pairs", "Preference pairs kept out of training", d.HeldOutPairs).AtLeast(2);
        var grpoSteps = Cli.Optional("--grpo-steps", "GRPO optimizer steps (2 prompts each)", d.GrpoSteps).AtLeast(1);
        var beta = Cli.Optional("--beta", "DPO β", d.Beta).Positive();
        var groupSize = Cli.Optional("--group-size", "GRPO completions per prompt", d.GroupSize).AtLeast(2);
        var kl = Cli.Optional("--kl", "GRPO KL coefficient", d.Kl).NonNegative();
        var maxNew = Cli.Optional("--max-new-tokens", "Longest generated reply", d.MaxNewTokens).AtLeast(1);
        var seed = Cli.Optional("--seed", "Seed", d.Seed).AtLeast(0);
        var command = new Command("compare", "On the sample: base, SFT, SFT + DPO and SFT + reward model + GRPO, their replies to held-out tickets scored by the relevance judge");
        foreach (var o in new Option[] { data, output, json, tickets, sftReplies, heldOutPairs, grpoSteps, beta, groupSize, kl, maxNew, seed }) command.Options.Add(o);
        output.FolderToWrite();
        command.Handle(parse =>
        {
            var options = d with
            {
                DataDirectory = parse.GetValue(data)!, TestTickets = parse.GetValue(tickets), SftReplies = parse.GetValue(sftReplies),
                HeldOutPairs = parse.GetValue(heldOutPairs), GrpoSteps = parse.GetValue(grpoSteps), Beta = parse.GetValue(beta),
                GroupSize = parse.GetValue(groupSize), Kl = parse.GetValue(kl), MaxNewTokens = parse.GetValue(maxNew), Seed = parse.GetValue(seed),
            };
            if (!Directory.Exists(Path.Combine(options.DataDirectory, "base-model")))
                throw new DirectoryNotFoundException($"--data: {Path.Combine(options.DataDirectory, "base-model")} not found: run from the repository root, or pass --data.");
            bool asJson = parse.GetValue(json);
            var started = DateTime.Now;
            var report = PreferenceStory.Run(options, stage =>
            {
                if (!asJson) Cli.Out.MarkupLine($"[grey]{DateTime.Now - started:mm\\:ss}[/] {Markup.Escape(stage)}");
                else Console.Error.WriteLine($"{DateTime.Now - started:mm\\:ss} {stage}");
            });
            if (parse.GetValue(output) is { } dir)
            {
                report.Save(dir);
                Console.Error.WriteLine($"ftk preferences compare: wrote {Path.Combine(Path.GetFullPath(dir), "report.html")} and report.json");
            }
            if (asJson) { Console.WriteLine(report.ToJson()); return 0; }
            var table = new Table();
            foreach (var h in PreferenceStoryReport.Header) table.AddColumn(Markup.Escape(h));
            foreach (var row in report.Rows()) table.AddRow(row.Select(Markup.Escape).ToArray());
            Cli.Out.Write(table);
            var pairs = new Table().AddColumn("held-out pairs").AddColumn("accuracy").AddColumn("easy").AddColumn("hard").AddColumn("mean margin easy").AddColumn("mean margin hard");
            foreach (var s in report.Separation)
                pairs.AddRow(Markup.Escape(s.Scorer), F(s.Accuracy), F(s.EasyAccuracy), F(s.HardAccuracy), F(s.EasyMeanMargin), F(s.HardMeanMargin));
            Cli.Out.Write(pairs);
            Console.WriteLine($"finished in {report.Elapsed.TotalMinutes:F1} min");
            return 0;
        });
        return command;
    }

    private static string F(double v) => double.IsFinite(v) ? v.ToString("0.000", CultureInfo.InvariantCulture) : "–";
}
