using System.CommandLine;
using System.Globalization;
using FineTune.Kit.Evaluation;
using FineTune.Kit.Evaluation.Comparison;
using Spectre.Console;

namespace FineTune.Kit.Cli.Commands;

/// <summary>
/// `ftk compare`: compares approaches from their saved predictions on one test set — accuracy with confidence
/// intervals, macro-F1, cost per 1,000 requests, a recommendation, and an HTML/JSON report.
/// </summary>
internal static class CompareCommand
{
    public static Command Create()
    {
        var approaches = new Option<string[]>("--approach")
        {
            Description = "One approach from saved predictions: NAME=PREDICTIONS.jsonl[;params=N][;train_seconds=S]. Repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };
        var model = new ModelOptions(modelRequired: false);
        var data = Cli.Optional<string?>("--data", "The test set: JSON Lines with \"text\" and \"label\" fields; with --model also a folder with test.jsonl and train.jsonl (the few-shot pool)", null, "--test");
        var prompt = new PromptOptions();
        var shots = Cli.Optional("--shots", "With --model: prompting approaches to run, as numbers of examples in the prompt", "0,4");
        var pricePerTokens = Cli.Optional("--price-per-1k-tokens", "Price of 1,000 prompt tokens.", 0.0);
        var pricePerHour = Cli.Optional("--price-per-hour",
            "Price of one hour of the machine that serves and trains the models: measured latency and training time are priced at it.",
            CostModel.DefaultHardwarePricePerHour);
        var pricePerSecond = Cli.Optional("--price-per-second", "Price of one second of inference compute (instead of --price-per-hour).", 0.0);
        var trainingPrice = Cli.Optional("--training-price-per-second", "Price of one second of training compute (default: --price-per-hour / 3600).", 0.0);
        var amortize = Cli.Optional("--amortize-over", "Requests the training cost is spread over.", CostModel.DefaultAmortizeOverRequests);
        var currency = Cli.Optional("--currency", "Currency symbol for the report.", "$");
        var resamples = Cli.Optional("--resamples", "Bootstrap resamples.", 2000);
        var level = Cli.Optional("--level", "Confidence level of the intervals.", 0.95);
        var seed = Cli.Optional("--seed", "Bootstrap seed.", Seeds.Default);
        var outDir = Cli.Optional<string?>("--out", "Folder for report.html and report.json.", null);
        var json = Cli.Optional("--json", "Print the JSON summary instead of the table.", false);
        var sliceBy = Cli.Optional<string?>("--slice-by", "Also report accuracy per value of this test-set column.", null);

        var command = new Command("compare", "Compare prompting and fine-tuning approaches from saved predictions on the same test set.")
        {
            approaches, model.Model, model.Adapters, model.Device, data, shots,
            pricePerTokens, pricePerHour, pricePerSecond, trainingPrice, amortize, currency, resamples, level, seed, outDir, json, sliceBy,
        };
        foreach (var o in prompt.All) command.Options.Add(o);
        command.Handle(parse =>
        {
            bool fromModel = parse.GetValue(model.Model) is not null;
            if (parse.GetValue(data) is null)
                throw new ArgumentException("--data is required: the test set (with --model, approaches run live; with --approach, from saved predictions)");
            if (fromModel == (parse.GetValue(approaches) is { Length: > 0 }))
                throw new ArgumentException("give either --model (approaches run live) or --approach (saved predictions), not both and not neither");
            if (!fromModel && prompt.AnyGiven(parse))
                throw new ArgumentException("the prompt options (--instruction, --input-prefix, --separator, --output-prefix, --labels-as) apply with --model only");
            var (testSet, pool) = fromModel ? ModelApproaches.ReadData(parse.GetValue(data)) : (EvaluationFiles.ReadTestSet(parse.GetValue(data)!), null);
            var comparison = new PromptVsFineTune(testSet)
                .CostModel(CostModelOf(parse, pricePerTokens, pricePerHour, pricePerSecond, trainingPrice, amortize, currency))
                .Bootstrap(new Bootstrap(parse.GetValue(resamples), parse.GetValue(level), parse.GetValue(seed)));
            if (fromModel) comparison.AddRange(ModelApproaches.Build(model, prompt, parse, testSet, pool!, parse.GetValue(shots)!));
            else foreach (var spec in parse.GetValue(approaches) ?? []) comparison.Add(ParseApproach(spec));
            var report = comparison.Run();
            if (parse.GetValue(outDir) is { } dir) report.Save(dir);
            if (parse.GetValue(json)) { Console.WriteLine(report.ToJson()); return 0; }

            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
            // redirected output has no terminal width; 80 columns would wrap every cell of the table
            if (Console.IsOutputRedirected) console.Profile.Width = 160;
            var table = new Table();
            foreach (var h in ComparisonReport.Header) table.AddColumn(Markup.Escape(h));
            foreach (var row in report.Rows()) table.AddRow(row.Select(Markup.Escape).ToArray());
            console.Write(table);
            if (parse.GetValue(sliceBy) is { } column)
            {
                var slices = report.SliceBy(column);
                var groups = slices.Values.First().Select(s => s.Group).ToArray();
                var sliceTable = new Table().AddColumn(Markup.Escape(column)).AddColumn("n");
                foreach (var a in report.Approaches) sliceTable.AddColumn(Markup.Escape(a.Name));
                for (var g = 0; g < groups.Length; g++)
                    sliceTable.AddRow([Markup.Escape(groups[g]), slices.Values.First()[g].Count.ToString(CultureInfo.InvariantCulture),
                        .. report.Approaches.Select(a => slices[a.Name][g].Accuracy.ToString("0.000", CultureInfo.InvariantCulture))]);
                console.Write(sliceTable);
            }
            console.WriteLine();
            console.WriteLine(report.Recommendation);

            if (parse.GetValue(outDir) is { } written) console.WriteLine($"report: {Path.Combine(written, "report.html")}, {Path.Combine(written, "report.json")}");
            return 0;
        });
        // refused while parsing, before anything is read or written (see OptionChecks)
        foreach (var price in new[] { pricePerTokens, pricePerSecond, trainingPrice }) price.NonNegative();
        amortize.AtLeast(1); resamples.AtLeast(1); level.Between(0, 1, minOpen: true, maxOpen: true); seed.AtLeast(0); outDir.FolderToWrite();
        return command;
    }

    /// <summary>
    /// The cost model of the options: latency and training time priced at --price-per-hour unless the per-second
    /// prices are given (--price-per-hour and --price-per-second together are refused: they price the same thing).
    /// </summary>
    internal static CostModel CostModelOf(ParseResult parse, Option<double> perTokens, Option<double> perHour, Option<double> perSecond,
        Option<double> trainingPerSecond, Option<long> amortize, Option<string> currency)
    {
        static bool Given(ParseResult p, Option o) => p.GetResult(o) is { Implicit: false };
        if (Given(parse, perHour) && Given(parse, perSecond))
            throw new ArgumentException("give --price-per-hour or --price-per-second, not both");
        if (parse.GetValue(perHour) is var h && (!double.IsFinite(h) || h < 0)) throw new ArgumentException($"--price-per-hour must be a non-negative number, got {h}");
        if (parse.GetValue(amortize) < 1) throw new ArgumentException($"--amortize-over must be at least 1, got {parse.GetValue(amortize)}");
        var hourly = CostModel.ForHardware(parse.GetValue(perHour), parse.GetValue(amortize));
        return hourly with
        {
            PricePer1kPromptTokens = parse.GetValue(perTokens),
            PricePerComputeSecond = Given(parse, perSecond) ? parse.GetValue(perSecond) : hourly.PricePerComputeSecond,
            TrainingPricePerSecond = Given(parse, trainingPerSecond) ? parse.GetValue(trainingPerSecond) : hourly.TrainingPricePerSecond,
            AmortizeOverRequests = parse.GetValue(amortize),
            Currency = parse.GetValue(currency)!,
        };
    }

    /// <summary>Parses NAME=PATH[;params=N][;train_seconds=S].</summary>
    internal static Approach ParseApproach(string spec)
    {
        var parts = spec.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        // the last '=' splits, so names like "LoRA r=8" work (paths must not contain '=')
        var head = parts.Length == 0 ? -1 : parts[0].LastIndexOf('=');
        if (head <= 0 || head == parts[0].Length - 1)
            throw new ArgumentException($"--approach '{spec}': expected NAME=PREDICTIONS.jsonl[;params=N][;train_seconds=S]");
        var approach = Approach.Named(parts[0][..head].Trim())
            .WithPredictions(EvaluationFiles.ReadPredictions(parts[0][(head + 1)..].Trim()));
        foreach (var option in parts.Skip(1))
        {
            var kv = option.Split('=', 2, StringSplitOptions.TrimEntries);
            var value = kv.Length == 2 ? kv[1] : "";
            approach = kv[0] switch
            {
                "params" when long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) => approach.WithTrainableParameters(n),
                "train_seconds" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) =>
                    approach.TrainedFor(TimeSpan.FromSeconds(s)),
                _ => throw new ArgumentException($"--approach '{spec}': cannot read '{option}' (known: params=N, train_seconds=S)"),
            };
        }
        return approach;
    }
}
