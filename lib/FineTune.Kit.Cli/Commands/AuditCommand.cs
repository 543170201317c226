using System.CommandLine;
using FineTune.Kit.Audit;
using FineTune.Kit.Data;
using FineTune.Kit.Prompting;

namespace FineTune.Kit.Cli.Commands;

/// <summary>
/// `ftk audit`: a bias audit of a classifier (the model, with its adapter's prompt.json when it has one): accuracy,
/// macro-F1 and error rates per group of --group with the largest gap and parity differences, and the counterfactual
/// flip rate over the lexicon. Writes report.html and report.json with --out; --json prints the JSON.
/// </summary>
internal static class AuditCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var prompt = new PromptOptions();
        var data = Cli.Required<string>("--data", "JSONL file of the examples to audit: text, label and the --group column").ExistingFile();
        var group = new Option<string?>("--group") { Description = "Column whose groups are compared (region, segment, language); without it only counterfactuals run" }
            .Check(g => !string.IsNullOrWhiteSpace(g), "a column name");
        var counterfactuals = Cli.Optional("--counterfactuals", "Counterfactual lexicon: default (names, gendered words, places, dialect, politeness), none, or a JSON FILE", "default")
            .Check(v => v is "default" or "none" || File.Exists(v), "default, none or an existing lexicon file");
        var output = new Option<string?>("--out") { Description = "Folder for report.html and report.json" }.FolderToWrite();
        var json = Cli.Optional("--json", "Print report.json instead of a summary", false);
        var minGroup = Cli.Optional("--min-group-size", "Groups with fewer examples are listed but not ranked", 30).AtLeast(1);
        var resamples = Cli.Optional("--resamples", "Bootstrap resamples per interval", 1000).AtLeast(1);
        var level = Cli.Optional("--level", "Confidence level of every interval", 0.95).Between(0, 1, minOpen: true, maxOpen: true);
        var seed = Cli.Optional("--seed", "Seed of the resampling", Seeds.Default).AtLeast(0);
        var worst = Cli.Optional("--worst", "Worst counterfactual pairs listed", 10).AtLeast(0);
        var maxExamples = new Option<int?>("--max-examples") { Description = "Audit only the first N rows (default all)" }.AtLeast(1);
        var gapTolerance = Cli.Optional("--gap-tolerance", "An accuracy or macro-F1 gap whose whole interval is above this is a finding", 0.05).Between(0, 1);
        var flipTolerance = Cli.Optional("--flip-tolerance", "A flip rate whose whole interval is above this is a finding", 0.05).Between(0, 1);
        var extraction = Cli.Optional("--extraction", "Also test training-data extraction: prefixes of the --train rows and of the --data rows (held out) continued greedily", false);
        var train = new Option<string>("--train") { Description = "JSONL file the model was fine-tuned on (the training side of --extraction)", HelpName = "file" }.ExistingFile();
        var command = new Command("audit", "Audit a classifier for bias: per-group gaps with intervals, parity differences, counterfactual flip rates");
        foreach (var o in m.All().Concat<Option>([data, group, counterfactuals, output, json, minGroup, resamples, level, seed, worst, maxExamples,
                     gapTolerance, flipTolerance, extraction, train]).Concat(prompt.All))
            command.Options.Add(o);
        command.Handle(parse =>
        {
            var file = parse.GetValue(data)!;
            if (parse.GetValue(extraction) && parse.GetValue(train) is null)
                throw new ArgumentException("--extraction needs --train FILE: the data the model was fine-tuned on, to compare with the held-out --data rows");
            var rows = Dataset.FromJsonl(file);
            if (parse.GetValue(maxExamples) is { } max && max < rows.Count) rows = rows.Derive(rows.Rows.Take(max));
            var lexicon = parse.GetValue(counterfactuals) switch
            {
                "none" => null,
                "default" => CounterfactualLexicon.Default,
                var path => CounterfactualLexicon.Load(path!),
            };
            using var model = m.Load(parse);
            var labels = rows.Rows.Select(r => r["label"]).OfType<string>().Where(l => l.Length > 0).Distinct().Order(StringComparer.Ordinal).ToList();
            PromptTemplate? template = null;
            foreach (var adapterDir in parse.GetValue(m.Adapters) ?? [])
                if (PromptFile.TryLoad(adapterDir) is { } saved)
                {
                    Note($"{adapterDir}: prompting with its {PromptFile.FileName}");
                    template = prompt.Apply(saved, parse, labels, note => Note($"{adapterDir}: {note}"));
                }
            if (template is null)
            {
                if (labels.Count == 0)
                    throw new DataFormatException($"{file}: no row has a \"label\", and no adapter brings a prompt.json with its labels; the classifier needs labels to choose from");
                template = prompt.Build(parse, labels);
            }
            var audit = BiasAudit.Of(model.Classifier(template));
            if (parse.GetValue(extraction))
            {
                static List<string> Texts(Dataset d) => d.Rows.Select(r => r["text"]).OfType<string>().Where(t => t.Length > 0).ToList();
                var trained = Dataset.FromJsonl(parse.GetValue(train)!);
                audit.Extraction(ExtractionTest.For(model).Bootstrap(new Evaluation.Bootstrap(parse.GetValue(resamples), parse.GetValue(level), parse.GetValue(seed)))
                    .Run(Texts(trained), Texts(rows)));
            }
            var report = audit
                .Data(rows, parse.GetValue(group))
                .Counterfactuals(lexicon)
                .MinGroupSize(parse.GetValue(minGroup)).Resamples(parse.GetValue(resamples)).Level(parse.GetValue(level))
                .Seed(parse.GetValue(seed)).Worst(parse.GetValue(worst))
                .GapTolerance(parse.GetValue(gapTolerance)).FlipTolerance(parse.GetValue(flipTolerance))
                .Run();
            if (parse.GetValue(output) is { } dir)
            {
                report.Save(dir);
                Console.Error.WriteLine($"ftk audit: wrote {Path.Combine(Path.GetFullPath(dir), "report.html")} and report.json");
            }
            if (parse.GetValue(json)) { Console.WriteLine(report.ToJson()); return 0; }
            if (report.Disparity is { } d)
            {
                foreach (var g in d.Groups)
                    Console.WriteLine($"{g.Group}: {g.Count} examples, accuracy {g.Accuracy}{(g.TooSmall ? " (too small to rank)" : "")}");
                if (d.AccuracyGap is { } gap) Console.WriteLine($"largest accuracy gap {gap.BestGroup} - {gap.WorstGroup}: {gap.Gap}");
                if (d.DemographicParity is { } dp) Console.WriteLine($"demographic-parity difference: {dp.Difference} ('{dp.Label}')");
                if (d.EqualizedOdds is { } eo) Console.WriteLine($"equalised-odds difference: {eo.Difference} ('{eo.Label}')");
            }
            if (report.Invariance is { } inv)
            {
                Console.WriteLine($"counterfactual flip rate: {inv.Overall.FlipRate} over {inv.Overall.Pairs} pairs");
                foreach (var a in inv.ByAttribute) Console.WriteLine($"  {a.Name}: {a.FlipRate} over {a.Pairs} pairs");
            }
            if (report.Extraction is { } x)
                Console.WriteLine($"extraction: verbatim continuations {x.TrainExact} of training rows, {x.HeldOutExact} of held-out rows");
            foreach (var n in report.Notes) Console.WriteLine($"note: {n}");
            Console.WriteLine(report.Passed ? "no finding above the tolerances" : $"{report.Findings.Count} finding(s):");
            foreach (var f in report.Findings) Console.WriteLine($"FINDING {f}");
            return 0;
        });
        return command;
    }

    private static void Note(string message) => Console.Error.WriteLine($"ftk audit: note: {message}");
}
