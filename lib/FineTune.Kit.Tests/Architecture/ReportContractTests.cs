using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using FineTune.Kit.Data;
using FineTune.Kit.Data.Curation;
using FineTune.Kit.Evaluation;
using FineTune.Kit.Evaluation.Comparison;
using FineTune.Kit.Explain;
using FineTune.Kit.Monitoring;
using FineTune.Kit.Plots;
using FineTune.Kit.Preferences;
using FineTune.Kit.Prompting;
using FineTune.Kit.Training;

namespace FineTune.Kit.Tests.Architecture;

/// <summary>
/// The shapes every stage shares: each report is an <see cref="IReport"/> that saves a folder of report.html and
/// report.json; seeds are int with one default; fluent builders use noun setters that check their value at once.
/// </summary>
public class ReportContractTests
{
    private static readonly Assembly KitAssembly = typeof(IReport).Assembly;

    private static IEnumerable<Type> PublicTypes() => KitAssembly.GetExportedTypes().Where(t => !t.IsInterface);

    /// <summary>A name ending in Report, History or Attribution, or a public ToHtml(), promises a report.</summary>
    private static bool LooksLikeReport(Type t) =>
        t != typeof(HtmlPage) && !(t.IsAbstract && t.IsSealed) &&
        (Regex.IsMatch(t.Name, "(Report|History|Attribution)$") ||
         t.GetMethod("ToHtml", BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes) is { ReturnType: var r } && r == typeof(string));

    [Fact]
    public void Every_report_of_the_kit_is_an_IReport()
    {
        var found = PublicTypes().Where(LooksLikeReport).ToList();
        Assert.Contains(typeof(CurationReport), found);
        var outside = found.Where(t => !typeof(IReport).IsAssignableFrom(t)).Select(t => t.FullName).Order(StringComparer.Ordinal).ToList();
        Assert.True(outside.Count == 0, "reports that do not implement IReport: " + string.Join(", ", outside));
    }

    /// <summary>One small instance of each report the kit has.</summary>
    private static IEnumerable<IReport> Samples(TempFolder dir)
    {
        var raw = Dataset.FromJsonl(dir.File("raw.jsonl", string.Join("\n",
            """{"text": "my parcel never arrived", "label": "shipping"}""",
            """{"text": "my parcel never arrived", "label": "shipping"}""",
            """{"text": "I was charged twice this month", "label": "billing"}""",
            """{"text": "<p>the app crashes at start</p>", "label": "bug"}""")));
        yield return raw.Curate(c => c.StripHtml().DropDuplicates()).Report;

        LabeledExample[] test = [new("a", "x"), new("b", "y"), new("c", "x"), new("d", "y")];
        ClassifierOutput Out(string label, double p) => new(label, new Dictionary<string, double> { [label] = p }, 10, TimeSpan.FromMilliseconds(3));
        ClassifierOutput[] outputs = [Out("x", 0.9), Out("y", 0.8), Out("y", 0.6), Out("y", 0.7)];
        yield return ClassificationReport.Create(test, outputs, bootstrap: new Bootstrap(Resamples: 50));
        yield return new PromptVsFineTune(test).Bootstrap(new Bootstrap(Resamples: 50))
            .Add(Approach.Named("zero-shot").WithPredictions(outputs))
            .Add(Approach.Named("LoRA").WithPredictions(test.Select(e => Out(e.Label, 0.9)).ToArray()))
            .Run();

        yield return new Attribution("kernel_shap", ["my", " parcel", " never", " arrived"], [0.1, 0.4, -0.2, 0.3], -2, -1.4) { Target = " shipping" };

        yield return TrainingHistory.FromJson(JsonSerializer.Serialize(Enumerable.Range(1, 4).Select(s => new StepMetrics
            { Step = s, Loss = 2.0 / s, ValLoss = s % 2 == 0 ? 2.5 / s : null, Lr = 1e-3, GradNorm = 1, TokensPerSecond = 100 })));

        var preferences = new PreferenceHistory();
        foreach (var s in Enumerable.Range(1, 3))
            preferences.Add(new PreferenceStep { Step = s, Loss = 0.7 / s, Lr = 1e-4, GradNorm = 0.5, Values = new Dictionary<string, double> { ["accuracy"] = 0.5 + s / 10.0 } });
        yield return preferences;

        yield return new SweepReport([
            new SweepResult(new SweepPoint(1e-3, 4, 8), new TrialScore(0.9), TimeSpan.FromSeconds(2)),
            new SweepResult(new SweepPoint(3e-3, 8, 16), new TrialScore(0.7), TimeSpan.FromSeconds(3)),
        ]);

        yield return ChatValidator.Validate(Dataset.FromJsonl(dir.File("chat.jsonl", string.Join("\n",
            """{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}""",
            """{"messages": [{"role": "user", "content": "hi"}]}"""))), text => text.Length);

        string[] regions = ["north", "north", "south", "south"];
        yield return Kit.Audit.BiasAudit.Of(new FixedClassifier("x")).Examples(["a", "b", "c", "d"], ["x", "y", "x", "y"], regions)
            .Counterfactuals(null).MinGroupSize(1).Resamples(50).Run();

        // the privacy reports, on an untrained tiny model
        string[] records = ["Ada from Cork says the router failed", "Bram from Kiel says the camera failed", "Cleo from Faro says the parcel failed"];
        var tokenizer = new Kit.Text.BpeTrainer().VocabSize(300).SpecialTokens("<|endoftext|>").Train([.. records, "my code is 0 1 2 3 4 5 6 7 8 9"]).ToTokenizer();
        var model = Models.TinyModels.Random(Kit.Models.ModelConfig.Llama(tokenizer.VocabSize, 32, 1, 2, 2, 64, maxPositions: 64, tied: true)
            with { PadTokenId = 0, EosTokenIds = [0] }, seed: 3);
        model.Tokenizer = tokenizer;
        yield return Kit.Audit.ExtractionTest.For(model).Prefix(3).Suffix(6).Bootstrap(new Bootstrap(Resamples: 50)).Run(records, records.Reverse().ToList());
        yield return Kit.Audit.CanaryExposure.For(model).Candidates(15).Measure(Kit.Audit.CanarySet.Create(inserted: 1, controls: 1, seed: 5));
        yield return Kit.Audit.MembershipReport.FromLosses([1.0, 1.2, 0.9], [1.4, 1.5, 1.3], new Bootstrap(Resamples: 50));
        yield return Kit.Audit.OutputPii.Scan(["write to ada@example.com", "no personal data here"]);

        // the preference story's report, from hand-made replies and scores (running the story takes minutes)
        var judge = Kit.Sample.SampleJudge.Relevance();
        Kit.Demo.ApproachReplies Replies(string name, params string[] replies) =>
            new(name, ["my parcel LH-1 never arrived", "I was charged twice"], replies,
                replies.Select((r, i) => judge.Score(i == 0 ? "my parcel LH-1 never arrived" : "I was charged twice", r)).ToList(), TimeSpan.FromSeconds(1));
        string[] kinds = ["brush_off", "wrong_intent", "wrong_reference"];
        yield return new Kit.Demo.PreferenceStoryReport(new Kit.Demo.PreferenceStoryOptions(),
            [Replies("base", "Read the manual.", "Thanks."), Replies("SFT", "Thanks for writing.", "Sorry about that."),
             Replies("SFT + DPO", "I've opened a trace for order LH-1.", "I've refunded the second charge.")],
            [Kit.Demo.PairSeparation.From("judge", [0.4, 0.2, -0.1], kinds), Kit.Demo.PairSeparation.From("reward model", [0.3, -0.2, 0.1], kinds)], kinds, preferences, preferences, preferences, 12, TimeSpan.FromSeconds(5));

        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var log = Enumerable.Range(0, 40).Select(i => new RequestRecord
        {
            Time = start.AddMinutes(i), Endpoint = "/v1/chat/completions", Status = 200, LatencyMs = 10 + i, InputChars = 20, InputWords = 4,
        }).ToList();
        yield return DriftMonitor.Run(log, Dataset.FromTexts(["my parcel never arrived", "I was charged twice"], ["shipping", "billing"]).AsText());
    }

    [Fact]
    public void Every_report_type_has_a_sample_here()
    {
        using var dir = new TempFolder();
        var covered = Samples(dir).Select(r => r.GetType()).ToHashSet();
        var missing = PublicTypes().Where(t => typeof(IReport).IsAssignableFrom(t) && !covered.Contains(t))
            .Select(t => t.FullName).Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, "add a sample of these reports to ReportContractTests.Samples: " + string.Join(", ", missing));
    }

    [Fact]
    public void Save_writes_a_folder_of_exactly_report_html_and_report_json()
    {
        using var dir = new TempFolder();
        var bundle = HtmlPage.PlotlyJs.Value[..200];
        foreach (var report in Samples(dir))
        {
            var name = report.GetType().Name;
            var folder = Path.Combine(dir.Path, "saved", name);
            report.Save(folder);
            Assert.Equal([ReportFolder.HtmlFile, ReportFolder.JsonFile],
                Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray());

            var json = File.ReadAllText(Path.Combine(folder, ReportFolder.JsonFile));
            Assert.Equal(report.ToJson(), json);
            using (JsonDocument.Parse(json)) { }
            Assert.Contains('\n', json.Trim());                     // indented

            var html = File.ReadAllText(Path.Combine(folder, ReportFolder.HtmlFile));
            Assert.StartsWith("<!DOCTYPE html>", html);
            Assert.True(Regex.Matches(html, Regex.Escape(bundle)).Count == 1, $"{name}: the page must embed plotly.js exactly once");
            var charts = report.Charts();
            Assert.True(charts.Count >= 1, $"{name} has no chart");
            Assert.True(Regex.Matches(html, "Plotly.newPlot").Count >= charts.Count, $"{name}: the page draws fewer charts than Charts() returns");
        }
    }

    [Fact]
    public void A_report_is_not_saved_over_a_file()
    {
        using var dir = new TempFolder();
        var report = Samples(dir).OfType<Attribution>().Single();
        var file = dir.File("taken", "x");
        Assert.Throws<ArgumentException>(() => report.Save(file));
        Assert.Equal("x", File.ReadAllText(file));
    }

    /// <summary>Optional seed parameters whose documented default is not <see cref="Seeds.Default"/>.</summary>
    private static readonly string[] SeedDefaultExceptions =
    [
        "FineTune.Kit.Sample.SampleData.Generate",       // the committed sample is generated with its documented seed 7
        "FineTune.Kit.Sample.SampleData.EnsureCorpus",
    ];

    private static IEnumerable<(string Where, Type Type, ParameterInfo? Parameter)> SeedMembers()
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var t in PublicTypes())
        {
            foreach (var p in t.GetProperties(all).Where(p => p.Name.Contains("Seed", StringComparison.OrdinalIgnoreCase)))
                yield return ($"{t.FullName}.{p.Name}", p.PropertyType, null);
            foreach (var f in t.GetFields(all).Where(f => f.Name.Contains("Seed", StringComparison.OrdinalIgnoreCase)))
                yield return ($"{t.FullName}.{f.Name}", f.FieldType, null);
            foreach (var m in t.GetMethods(all).Cast<MethodBase>().Concat(t.GetConstructors(BindingFlags.Public | BindingFlags.Instance)))
                foreach (var p in m.GetParameters().Where(p => p.Name?.Contains("seed", StringComparison.OrdinalIgnoreCase) == true))
                    yield return ($"{t.FullName}.{(m is ConstructorInfo ? t.Name : m.Name)}", p.ParameterType, p);
        }
    }

    private static Type Underlying(Type t)
    {
        if (t.IsByRef) t = t.GetElementType()!;          // a record's Deconstruct(out int Seed)
        return Nullable.GetUnderlyingType(t) ?? t;
    }

    [Fact]
    public void Seeds_are_int_and_default_to_Seeds_Default()
    {
        var seeds = SeedMembers().ToList();
        Assert.Contains(seeds, s => s.Where == "FineTune.Kit.Models.CausalLM.Create");
        var notInt = seeds.Where(s => Underlying(s.Type) != typeof(int))
            .Select(s => $"{s.Where} ({s.Type.Name})").Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.True(notInt.Count == 0, "seeds that are not int: " + string.Join(", ", notInt));
        var otherDefault = seeds.Where(s => s.Parameter is { HasDefaultValue: true } p && !Equals(p.DefaultValue, Kit.Seeds.Default)
                                           && !SeedDefaultExceptions.Contains(s.Where))
            .Select(s => $"{s.Where}({s.Parameter!.Name} = {s.Parameter.DefaultValue})").Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.True(otherDefault.Count == 0, "seed defaults other than Seeds.Default: " + string.Join(", ", otherDefault));
    }

    [Fact]
    public void Seed_properties_of_options_default_to_Seeds_Default()
    {
        Assert.Equal(Kit.Seeds.Default, new Kit.Models.GenerationOptions().Seed);
        Assert.Equal(Kit.Seeds.Default, new TrainerSettings().Seed);
        Assert.Equal(Kit.Seeds.Default, new PretrainOptions().Seed);
        Assert.Equal(Kit.Seeds.Default, new Kit.Lora.LoraConfig().Seed);
        Assert.Equal(Kit.Seeds.Default, new ExplainOptions().Seed);
        Assert.Equal(Kit.Seeds.Default, new NearDuplicateOptions().Seed);
        Assert.Equal(Kit.Seeds.Default, new Bootstrap().Seed);
        Assert.Equal(Kit.Seeds.Default, new KernelShap().SeedValue);
        Assert.Equal(Kit.Seeds.Default, new RuleSurrogate().SeedValue);
    }

    /// <summary>Records keep C#'s <c>With…</c> copies (an immutable value with one part changed); builders do not.</summary>
    private static bool IsRecord(Type t) => t.GetMethod("<Clone>$", BindingFlags.Public | BindingFlags.Instance) is not null;

    [Fact]
    public void Builders_have_noun_setters_without_a_With_prefix()
    {
        var withers = PublicTypes().Where(t => t.IsClass && !IsRecord(t))
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance)
                .Where(m => Regex.IsMatch(m.Name, "^With[A-Z]") && (m.ReturnType == t || m.ReturnType.IsGenericParameter))
                .Select(m => $"{t.Name}.{m.Name}"))
            .Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Contains(typeof(KernelShap).GetMethods(), m => m.Name == "Seed" && m.ReturnType == typeof(KernelShap));
        Assert.True(withers.Count == 0, "builder setters with a With prefix: " + string.Join(", ", withers));
    }

    public static TheoryData<string, Action> BadSettings() => new()
    {
        { "Lime.Samples", () => new Lime().Samples(1) },
        { "Lime.KernelWidth", () => new Lime().KernelWidth(0) },
        { "Lime.Ridge", () => new Lime().Ridge(-1) },
        { "KernelShap.Budget", () => new KernelShap().Budget(0) },
        { "KernelShap.InBatchesOf", () => new KernelShap().InBatchesOf(0) },
        { "Occlusion.Window", () => new Occlusion().Window(0) },
        { "IntegratedGradients.Steps", () => new IntegratedGradients().Steps(0) },
        { "RuleSurrogate.MaxDepth", () => new RuleSurrogate().MaxDepth(4) },
        { "RuleSurrogate.MinLeaf", () => new RuleSurrogate().MinLeaf(0) },
        { "RuleSurrogate.MinTokenRows", () => new RuleSurrogate().MinTokenRows(0) },
        { "RuleSurrogate.HoldOut", () => new RuleSurrogate().HoldOut(1) },
        { "ExactShapley.AllowingUpTo", () => new ExactShapley().AllowingUpTo(99) },
        { "CurationPipeline.LabelColumn", () => new CurationPipeline().LabelColumn("") },
        { "PromptVsFineTune.Labels", () => new PromptVsFineTune([new("a", "x")]).Labels([]) },
        { "PromptVsFineTune.CostModel", () => new PromptVsFineTune([new("a", "x")]).CostModel(new CostModel { PricePer1kPromptTokens = -1 }) },
        { "BpeTrainer.VocabSize", () => new Kit.Text.BpeTrainer().VocabSize(0) },
        { "Attribution", () => _ = new Attribution("m", ["a"], [1.0, 2.0], 0, 0) },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void A_bad_setting_is_an_ArgumentException_at_once(string setting, Action set)
    {
        var e = Assert.ThrowsAny<ArgumentException>(set);
        Assert.False(string.IsNullOrWhiteSpace(e.Message), setting);
    }
}

/// <summary>A classifier that always answers the same label (for report samples).</summary>
internal sealed class FixedClassifier(string label) : ITextClassifier
{
    public ClassifierOutput Classify(string input) => new(label, new Dictionary<string, double> { [label] = 1.0 });
}
