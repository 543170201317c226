using System.CommandLine;
using System.Globalization;
using FineTune.Kit.Demo;
using Spectre.Console;

namespace FineTune.Kit.Cli.Commands;

/// <summary>`ftk demo [--out DIR]`: the whole life cycle on the embedded sample (the README's main job).</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var d = new DemoOptions();
        var output = Cli.Optional("--out", "Folder for report.html, metrics.json, the adapter and the merged model", d.OutputDirectory);
        var data = Cli.Optional("--data", "Folder with the sample data and base-model/", d.DataDirectory);
        var test = Cli.Optional("--test-examples", "Held-out tickets to score every approach on", d.TestExamples);
        var epochs = Cli.Optional("--epochs", "LoRA training epochs", d.Epochs);
        var seed = Cli.Optional("--seed", "Seed", d.Seed);
        var pricePerHour = Cli.Optional("--price-per-hour", "Price of one hour of this machine: latency and training time are priced at it", d.HardwarePricePerHour);
        var amortize = Cli.Optional("--amortize-over", "Requests the training cost is spread over in the cost per 1,000 requests", d.AmortizeOverRequests);
        var command = new Command("demo", "Run the whole life cycle on the embedded sample: curate, prompt, fine-tune, compare, explain, merge, generate");
        foreach (var o in new Option[] { output, data, test, epochs, seed, pricePerHour, amortize }) command.Options.Add(o);
        command.Handle(parse =>
        {
            var options = d with
            {
                OutputDirectory = parse.GetValue(output)!, DataDirectory = parse.GetValue(data)!,
                TestExamples = parse.GetValue(test), Epochs = parse.GetValue(epochs), Seed = parse.GetValue(seed),
                HardwarePricePerHour = parse.GetValue(pricePerHour), AmortizeOverRequests = parse.GetValue(amortize),
            };
            Evaluation.Comparison.CostModel.ForHardware(options.HardwarePricePerHour, options.AmortizeOverRequests);   // refuse bad prices at once
            if (!Directory.Exists(Path.Combine(options.DataDirectory, "base-model")))
                throw new DirectoryNotFoundException($"{Path.Combine(options.DataDirectory, "base-model")} not found: run the demo from the repository root, or pass --data.");
            var started = DateTime.Now;
            Action<Training.StepMetrics>? step = null;
            int totalSteps = 0;
            var result = LifeCycleDemo.Run(options, stage =>
            {
                Cli.Out.MarkupLine($"[grey]{DateTime.Now - started:mm\\:ss}[/] {Markup.Escape(stage)}");
                if (stage.StartsWith("fine-tuning")) step = m => { if (m.Step % 25 == 0 || m.ValLoss is not null) Console.WriteLine($"  step {m.Step}  loss {m.Loss:F4}" + (m.ValLoss is { } v ? $"  val {v:F4}" : "")); };
                else step = null;
            }, m => { totalSteps = m.Step; step?.Invoke(m); });

            var table = new Table().AddColumn("approach").AddColumn(new TableColumn("accuracy").RightAligned())
                .AddColumn(new TableColumn("95% CI").RightAligned()).AddColumn(new TableColumn("macro-F1").RightAligned())
                .AddColumn(new TableColumn("trainable").RightAligned()).AddColumn(new TableColumn("latency").RightAligned())
                .AddColumn(new TableColumn("cost / 1k requests").RightAligned());
            foreach (var a in result.Comparison.Approaches)
                table.AddRow(Markup.Escape(a.Name), a.Accuracy.Estimate.ToString("P1", CultureInfo.InvariantCulture),
                    $"{a.Accuracy.Lower:P1}–{a.Accuracy.Upper:P1}", a.MacroF1.Estimate.ToString("F3", CultureInfo.InvariantCulture),
                    a.TrainableParameters.ToString("N0", CultureInfo.InvariantCulture), $"{a.Classification.LatencyMs.Mean:F0} ms",
                    Markup.Escape(Evaluation.Comparison.Recommendation.Money(a.CostPer1k, result.Comparison.CostModel)));
            Cli.Out.Write(table);
            Console.WriteLine(result.Comparison.Recommendation);
            Console.WriteLine($"\nThe merged model answers tickets (reply loss on {result.ReplyLoss.Examples} held-out replies: " +
                              $"{result.ReplyLoss.Base:F3} base, {result.ReplyLoss.Merged:F3} merged):");
            foreach (var r in result.Replies) Console.WriteLine($"\nCustomer: {r.Ticket}\nCategory: {r.Category}\nAgent: {r.Reply}");
            Console.WriteLine($"\nfinished in {result.Elapsed.TotalMinutes:F1} min; wrote {Path.GetFullPath(result.ReportPath)} and {Path.GetFullPath(result.MetricsPath)}");
            return 0;
        });
        // refused while parsing, before anything is written (see OptionChecks)
        output.FolderToWrite(); test.AtLeast(1); epochs.AtLeast(1); seed.AtLeast(0);
        return command;
    }
}
