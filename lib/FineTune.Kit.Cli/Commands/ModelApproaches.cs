using System.CommandLine;
using System.Globalization;
using FineTune.Kit.Data;
using FineTune.Kit.Evaluation;
using FineTune.Kit.Evaluation.Comparison;
using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Prompting;

namespace FineTune.Kit.Cli.Commands;

/// <summary>The live approaches of `ftk compare --model`: prompting with k examples, and each adapter.</summary>
internal static class ModelApproaches
{
    /// <summary>Reads the test set and the few-shot pool: a folder's test.jsonl and train.jsonl, or one file for both.</summary>
    public static (IReadOnlyList<LabeledExample> Test, IReadOnlyList<LabeledExample> Pool) ReadData(string? path)
    {
        if (path is null) throw new ArgumentException("--data is required with --model");
        static List<LabeledExample> Read(string file) =>
            Dataset.FromJsonl(file).AsText().Select(r => new LabeledExample(r.Text,
                r.Label ?? throw new DataFormatException($"{file}:{r.Line}: the row has no \"label\"."))).ToList();
        if (File.Exists(path)) { var all = Read(path); return (all, all); }
        var test = Path.Combine(path, "test.jsonl");
        if (!File.Exists(test)) throw new FileNotFoundException($"--data: {path} is neither a JSONL file nor a folder with test.jsonl");
        var train = Path.Combine(path, "train.jsonl");
        return (Read(test), File.Exists(train) ? Read(train) : Read(test));
    }

    /// <summary>
    /// One approach per --shots value (the base model prompted with k similar examples, chosen by TF-IDF; the query
    /// itself is never its own example) and one per --adapter. Prompting uses the template of the prompt options; an
    /// adapter uses the prompt.json saved with it when there is one (prompt options given on the command line replace
    /// its parts, with a note on stderr), else the same template.
    /// </summary>
    public static IEnumerable<Approach> Build(ModelOptions options, PromptOptions prompt, ParseResult parse,
        IReadOnlyList<LabeledExample> test, IReadOnlyList<LabeledExample> pool, string shots)
    {
        var labels = test.Concat(pool).Select(e => e.Label).Distinct().Order(StringComparer.Ordinal).ToArray();
        var template = prompt.Build(parse, labels);
        var ks = shots.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(k => int.TryParse(k, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n
                : throw new ArgumentException($"--shots: '{k}' is not a number of examples")).ToArray();
        var dir = parse.GetValue(options.Model)!;
        var device = parse.GetValue(options.Device)!;
        using (var model = CausalLM.Load(dir, new LoadOptions { Device = device }))
        {
            var classifier = model.Classifier(template);
            foreach (var k in ks)
            {
                var c = k == 0 ? classifier : classifier.Shots(FewShot.ByTfIdf(pool), k);
                var outputs = test.Select(e => c.Classify(e.Text)).ToList();
                yield return Approach.Named(k == 0 ? "zero-shot" : $"few-shot k={k}").WithPredictions(outputs);
            }
        }
        foreach (var adapterDir in parse.GetValue(options.Adapters) ?? [])
        {
            using var model = CausalLM.Load(dir, new LoadOptions { Device = device });
            var adapter = model.LoadAdapter(adapterDir);
            var adapterTemplate = template;
            if (PromptFile.TryLoad(adapterDir) is { } saved)
            {
                Note($"{adapterDir}: prompting with its {PromptFile.FileName}");
                adapterTemplate = prompt.Apply(saved, parse, labels, note => Note($"{adapterDir}: {note}"));
            }
            var classifier = model.Classifier(adapterTemplate);
            var outputs = test.Select(e => classifier.Classify(e.Text)).ToList();
            yield return Approach.Named($"LoRA r={adapter.Config.R}").WithPredictions(outputs).WithTrainableParameters(adapter.TrainableParameters);
        }
    }

    private static void Note(string message) => Console.Error.WriteLine($"ftk compare: note: {message}");
}
