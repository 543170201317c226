using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FineTune.Kit.Models;
using FineTune.Kit.Prompting;

namespace FineTune.Kit.Audit;

/// <summary>How the model the card describes is shipped: that decides the card's library and how to run it.</summary>
public enum ShippedAs
{
    /// <summary>A PEFT adapter applied to the base model (library peft).</summary>
    Adapter,
    /// <summary>A plain Hugging Face model folder (library transformers), adapters merged in when there were any.</summary>
    Model,
    /// <summary>A GGUF file for llama.cpp, Ollama and LM Studio.</summary>
    Gguf,
}

/// <summary>One number of the card's <c>model-index</c>, and the file and key it was read from.</summary>
/// <param name="Type">Metric type as the Hub knows it (accuracy, f1).</param>
/// <param name="Name">Display name.</param>
/// <param name="Value">The value, exactly as read.</param>
/// <param name="Source">Where it came from: "folder/report.json: approaches[name=…].accuracy".</param>
public sealed record CardMetric(string Type, string Name, double Value, string Source);

/// <summary>
/// A Hugging Face model card (README.md with YAML front matter) written from the files the kit's commands leave
/// behind, and from nothing else: config.json and the weights' header of the model; adapter_config.json, history.json,
/// prompt.json and trainer_settings.json of a training folder; report.json of <c>ftk curate</c>, of <c>ftk compare</c>
/// (the evaluation) and of <c>ftk audit</c>. A section whose file was not given says so and names the option that
/// would fill it; nothing is estimated or made up. Front matter: license, base_model (a Hub id only, never a local
/// path), library_name, tags, datasets, pipeline_tag and a model-index with the evaluation's measured results.
/// </summary>
public sealed partial class ModelCard
{
    /// <summary>The line that marks a README.md as written by the kit (later cards replace it, a hand-written one is kept).</summary>
    public const string Marker = "<!-- model card written by FineTune.Kit from the files listed under Sources -->";

    private readonly string _model;
    private readonly List<string> _adapters = [];
    private string? _evaluation, _audit, _curation, _license, _name, _approach, _intended, _outOfScope, _ggufFile;
    private readonly List<string> _datasets = [];
    private ShippedAs? _shipped;

    private ModelCard(string model) => _model = model;

    /// <summary>A card for the model in <paramref name="modelDirectory"/> (a Hugging Face folder with config.json).</summary>
    public static ModelCard For(string modelDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelDirectory);
        if (!Directory.Exists(modelDirectory)) throw new DirectoryNotFoundException($"{modelDirectory}: no such model folder");
        return new ModelCard(modelDirectory);
    }

    /// <summary>A training folder of <c>ftk train</c>: the adapter (adapter_config.json) with history.json, prompt.json, checkpoints.</summary>
    public ModelCard Adapter(string directory) { _adapters.Add(Folder(directory, "Adapter")); return this; }
    /// <summary>The folder <c>ftk compare --out</c> wrote (report.json with "approaches"), or that report.json itself.</summary>
    public ModelCard Evaluation(string path) { _evaluation = Report(path, "Evaluation"); return this; }
    /// <summary>The folder <c>ftk audit --out</c> wrote (report.json), or that report.json itself.</summary>
    public ModelCard Audit(string path) { _audit = Report(path, "Audit"); return this; }
    /// <summary>The folder <c>ftk curate --out</c> wrote (report.json), or that report.json itself.</summary>
    public ModelCard Curation(string path) { _curation = Report(path, "Curation"); return this; }
    /// <summary>The license id for the front matter (e.g. apache-2.0); without it the card says "unknown".</summary>
    public ModelCard License(string id) { _license = NonEmpty(id, "License"); return this; }
    /// <summary>A Hub dataset id for the front matter (repeatable); without one the curated file's name is used.</summary>
    public ModelCard Dataset(string id) { _datasets.Add(NonEmpty(id, "Dataset")); return this; }
    /// <summary>The model's name (title and model-index); default: the last adapter's folder name, else the model's.</summary>
    public ModelCard Name(string name) { _name = NonEmpty(name, "Name"); return this; }
    /// <summary>Which approach of the evaluation is this model (default: the one LoRA approach, or the only approach).</summary>
    public ModelCard Approach(string name) { _approach = NonEmpty(name, "Approach"); return this; }
    /// <summary>What the model is for, in the owner's words (replaces the card's default paragraph).</summary>
    public ModelCard IntendedUse(string text) { _intended = NonEmpty(text, "IntendedUse"); return this; }
    /// <summary>What the model must not be used for (replaces the card's default paragraph).</summary>
    public ModelCard OutOfScope(string text) { _outOfScope = NonEmpty(text, "OutOfScope"); return this; }
    /// <summary>How the model is shipped (default: an adapter when adapters are given, else a model folder).</summary>
    public ModelCard Shipped(ShippedAs how) { _shipped = how; return this; }
    /// <summary>Shipped as this GGUF file (its name appears in the instructions).</summary>
    public ModelCard Gguf(string fileName) { _shipped = ShippedAs.Gguf; _ggufFile = Path.GetFileName(NonEmpty(fileName, "Gguf")); return this; }

    /// <summary>The numbers of the model-index, each with its source; empty when no evaluation was given or no approach chosen.</summary>
    public IReadOnlyList<CardMetric> ModelIndexMetrics => Build().Metrics;

    /// <summary>The whole README.md: front matter, then the sections.</summary>
    public string ToMarkdown() => Build().Markdown;

    /// <summary>
    /// Writes README.md into <paramref name="directory"/> (created if missing), atomically, and returns its path. A
    /// README.md there that the kit did not write is kept and an <see cref="IOException"/> says so.
    /// </summary>
    public string Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "README.md");
        if (File.Exists(path) && !File.ReadAllText(path).Contains(Marker, StringComparison.Ordinal))
            throw new IOException($"{path} exists and was not written by the kit; the model card was not written (move it, or give another folder)");
        Io.AtomicFile.WriteAllText(path, ToMarkdown());
        return path;
    }

    private static string Folder(string dir, string setting)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dir, setting);
        return Directory.Exists(dir) ? dir : throw new DirectoryNotFoundException($"{setting}: {dir} is not a folder");
    }

    private static string Report(string path, string setting)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path, setting);
        var file = Directory.Exists(path) ? System.IO.Path.Combine(path, "report.json") : path;
        return File.Exists(file) ? file
            : throw new FileNotFoundException(Directory.Exists(path) ? $"{setting}: {file} not found (expected the report.json the command wrote)"
                : $"{setting}: {path} is neither a folder with report.json nor a report.json file", file);
    }

    private static string NonEmpty(string value, string setting) =>
        string.IsNullOrWhiteSpace(value) ? throw new ArgumentException($"{setting} must be some text", setting) : value.Trim();

    private sealed record Built(string Markdown, IReadOnlyList<CardMetric> Metrics);

    private Built Build()
    {
        var sources = new List<string>();
        var missing = new List<string>();
        var inv = CultureInfo.InvariantCulture;
        string Show(string path) => Shown(path);
        JsonNode? ReadJson(string path)
        {
            try { var node = JsonNode.Parse(File.ReadAllText(path)); sources.Add(Show(path)); return node; }
            catch (JsonException e) { throw new DataFormatException($"{path}: not valid JSON: {e.Message}", e); }
        }

        // the model
        var config = ModelConfig.Load(_model);
        sources.Add(Show(Path.Combine(_model, "config.json")));
        long? parameters = CountParameters(_model);
        if (parameters is not null) sources.Add($"{Show(_model)}/*.safetensors (tensor shapes)");

        // the training folders
        var adapters = _adapters.Select(dir => new TrainingFolder(dir, ReadJson)).ToList();
        var prompt = adapters.Select(a => a.Prompt).LastOrDefault(p => p is not null) ?? SafePrompt(_model, sources);
        var shipped = _shipped ?? (adapters.Any(a => a.Lora is not null) ? ShippedAs.Adapter : ShippedAs.Model);
        var name = _name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(adapters.Count > 0 && shipped == ShippedAs.Adapter ? adapters[^1].Directory : _model)));
        var hubBase = adapters.Select(a => a.Lora?["base_model_name_or_path"]?.GetValue<string>()).FirstOrDefault(IsHubId);
        var baseFolder = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(_model)));

        var curation = _curation is null ? null : ReadJson(_curation)?.AsObject();
        var evaluation = _evaluation is null ? null : ReadJson(_evaluation)?.AsObject();
        var audit = _audit is null ? null : ReadJson(_audit)?.AsObject();

        // which evaluation approach is this model
        var approaches = evaluation?["approaches"] as JsonArray;
        JsonObject? chosen = null;
        string? chosenNote = null;
        if (approaches is not null)
        {
            var all = approaches.OfType<JsonObject>().ToList();
            if (_approach is not null)
                chosen = all.FirstOrDefault(a => a["name"]?.GetValue<string>() == _approach)
                         ?? throw new ArgumentException($"Approach: {_evaluation} has no approach named \"{_approach}\" (it has: {string.Join(", ", all.Select(a => a["name"]?.ToString()))})");
            else if (all.Count == 1) chosen = all[0];
            else if (all.Count(a => a["name"]?.GetValue<string>()?.StartsWith("LoRA", StringComparison.Ordinal) == true) == 1)
                chosen = all.First(a => a["name"]!.GetValue<string>().StartsWith("LoRA", StringComparison.Ordinal));
            else chosenNote = $"The evaluation holds {all.Count} approaches and none was named as this model (--approach), so the model-index lists no result.";
        }
        else if (evaluation is not null) chosenNote = $"{Show(_evaluation!)} has no \"approaches\": it is not a report of ftk compare, so no result was read from it.";

        var datasetName = _datasets.FirstOrDefault() ?? (curation?["source"]?.GetValue<string>() is { } src ? Path.GetFileName(src) : null);
        var metrics = new List<CardMetric>();
        if (chosen is not null)
        {
            var approachName = chosen["name"]!.GetValue<string>();
            void Metric(string key, string type, string display)
            {
                if (chosen[key] is JsonValue v && v.TryGetValue<double>(out var d))
                    metrics.Add(new CardMetric(type, $"{display} ({approachName})", d, $"{Show(_evaluation!)}: approaches[name={approachName}].{key}"));
            }
            Metric("accuracy", "accuracy", "Accuracy");
            Metric("macro_f1", "f1", "Macro-F1");
        }

        // front matter
        var task = prompt is not null ? "text-classification" : "text-generation";
        var tags = new List<object> { "finetune-kit", config.ModelType };
        if (adapters.Any(a => a.Lora is not null)) tags.Add("lora");
        if (prompt is not null) tags.Add("text-classification");
        if (shipped == ShippedAs.Gguf) tags.Add("gguf");
        var front = new ModelCardYaml.Map()
            .Add("license", _license ?? "unknown")
            .Add("base_model", hubBase)
            .Add("library_name", shipped switch { ShippedAs.Adapter => "peft", ShippedAs.Gguf => "gguf", _ => "transformers" })
            .Add("tags", tags)
            .Add("datasets", _datasets.Count > 0 ? _datasets.Cast<object>().ToList() : datasetName is null ? null : new List<object> { datasetName })
            .Add("pipeline_tag", "text-generation");
        if (metrics.Count > 0)
        {
            var dataset = new ModelCardYaml.Map()
                .Add("name", datasetName is null ? "held-out test set" : $"{datasetName} (held-out test set)")
                .Add("type", datasetName ?? "held-out-test-set")
                .Add("split", "test");
            var result = new ModelCardYaml.Map()
                .Add("task", new ModelCardYaml.Map().Add("type", "text-classification").Add("name", "Text classification"))
                .Add("dataset", dataset)
                .Add("metrics", metrics.Select(m => (object)new ModelCardYaml.Map().Add("type", m.Type).Add("value", m.Value).Add("name", m.Name)).ToList());
            front.Add("model-index", new List<object> { new ModelCardYaml.Map().Add("name", name).Add("results", new List<object> { result }) });
        }

        var md = new StringBuilder();
        md.Append("---\n").Append(ModelCardYaml.Write(front)).Append("---\n\n").Append(Marker).Append("\n\n");
        md.Append("# ").Append(name).Append("\n\n");
        var what = shipped switch
        {
            ShippedAs.Adapter => $"A LoRA adapter (PEFT layout) for the {config.ModelType} model in the folder `{baseFolder}`",
            ShippedAs.Gguf => $"A GGUF export{(_ggufFile is null ? "" : $" (`{_ggufFile}`)")} of a {config.ModelType} model{(adapters.Count > 0 ? " with its adapter merged in" : "")}",
            _ => adapters.Count > 0 ? $"A {config.ModelType} model: the base model `{baseFolder}` with its adapter merged in" : $"A {config.ModelType} model",
        };
        md.Append(what).Append(prompt is not null ? $", fine-tuned to classify texts into {prompt.Verbalizer.Labels.Count} labels" : "")
          .Append(". Every number in this card was read from a file FineTune.Kit wrote; the files are listed under Sources.\n\n");
        md.Append(string.Create(inv, $"Architecture (config.json): {config.NumLayers} layers, hidden size {config.HiddenSize}, {config.NumHeads} attention heads, vocabulary {config.VocabSize:N0}, context {config.MaxPositions:N0} tokens"))
          .Append(parameters is { } p ? string.Create(inv, $", {p:N0} parameters (from the tensor shapes).\n\n") : "; the parameter count could not be read (no safetensors file).\n\n");
        if (hubBase is null)
            md.Append($"Base model: `{baseFolder}` (a local folder; no Hugging Face id was recorded, so `base_model` is not in the front matter).\n\n");
        if (_license is null) md.Append("License: not given (`--license`), so the front matter says `unknown`.\n\n");

        // intended use
        md.Append("## Intended use\n\n");
        if (_intended is not null) md.Append(_intended).Append("\n\n");
        else
        {
            md.Append(prompt is not null
                ? $"Sorting texts like its training data into these labels: {string.Join(", ", prompt.Verbalizer.Labels.Select(l => $"`{l}`"))} (from prompt.json). "
                : "Continuing and answering texts like its training data. ");
            md.Append("This paragraph is the kit's default; the owner did not describe the intended use (`--intended-use`).\n\n");
        }
        md.Append("## Out-of-scope use\n\n");
        md.Append(_outOfScope is not null ? _outOfScope + "\n\n"
            : "Not described by the owner (`--out-of-scope`). By default: decisions about people without human review; texts unlike " +
              "the training data (other languages, other domains); any use that relies on facts the model states.\n\n");

        // training data
        md.Append("## Training data and curation\n\n");
        if (curation is null)
        {
            md.Append("No curation report was given (`--curation DIR`, the folder `ftk curate` wrote), so the data's origin and cleaning are not described here.\n\n");
            missing.Add("training data and curation");
        }
        else
        {
            md.Append(string.Create(inv, $"Source: `{Path.GetFileName(curation["source"]?.GetValue<string>() ?? "?")}`. Rows in: {Int(curation, "input_rows")}, out: {Int(curation, "output_rows")} ({Int(curation, "removed_rows")} removed by rules; {(curation["invalid_rows"] as JsonArray)?.Count ?? 0} malformed rows listed in the report).\n\n"));
            if (curation["rules"] is JsonArray rules && rules.Count > 0)
            {
                md.Append("| rule | rows removed | rows modified |\n| --- | ---: | ---: |\n");
                foreach (var r in rules.OfType<JsonObject>())
                    md.Append($"| {Cell(r["name"]?.ToString())} | {r["removed"]} | {r["modified"]} |\n");
                md.Append('\n');
            }
            if (curation["splits"] is JsonObject splits)
                md.Append($"Splits: train {splits["train"]}, validation {splits["validation"]}, test {splits["test"]}.\n\n");
            if (curation["labels_after"] is JsonObject labels && labels.Count > 0)
                md.Append("Labels after curation: ").Append(string.Join(", ", labels.Select(l => $"`{l.Key}` {l.Value}"))).Append(".\n\n");
        }

        // training
        md.Append("## Training procedure\n\n");
        if (adapters.Count == 0)
        {
            md.Append("No training folder was given (`--adapter DIR`, the folder `ftk train` wrote), so the training procedure is not described here.\n\n");
            missing.Add("training procedure");
        }
        foreach (var a in adapters)
        {
            var folder = Show(a.Directory);
            if (a.Lora is { } lora)
            {
                var targets = lora["target_modules"] is JsonArray t ? string.Join(", ", t.Select(x => x!.ToString())) : lora["target_modules"]?.ToString();
                md.Append($"`{folder}`: LoRA (adapter_config.json) with rank r = {lora["r"]}, alpha {lora["lora_alpha"]}, dropout {lora["lora_dropout"]}, " +
                          $"on {targets}{(lora["use_rslora"]?.GetValue<bool>() == true ? ", rank-stabilised scaling" : "")}.\n\n");
            }
            else md.Append($"`{folder}`: no adapter_config.json (full fine-tuning, or not a training folder).\n\n");
            if (a.Settings is { } s)
            {
                md.Append($"Trainer settings ({Show(a.SettingsPath!)}):\n\n| setting | value |\n| --- | --- |\n");
                foreach (var (k, v) in s) if (v is not null && k != "checkpoint_directory") md.Append($"| {k} | {Cell(v is JsonValue sv && sv.TryGetValue<string>(out var text) ? text : v.ToJsonString())} |\n");   // as the file holds it
                md.Append('\n');
            }
            else
            {
                md.Append("Trainer settings (learning rate, batch size, schedule): not recorded in this folder (no trainer_settings.json).\n\n");
                missing.Add($"trainer settings of {folder}");
            }
            if (a.History is { Count: > 0 } h)
            {
                var steps = h.OfType<JsonObject>().ToList();
                var last = steps[^1];
                md.Append(string.Create(inv, $"History (history.json): {steps.Count} steps, {Num(last["epoch"])} epochs, final training loss {Num(last["loss"])}"));
                var evals = steps.Where(x => x["val_loss"] is JsonValue).ToList();
                if (evals.Count > 0)
                {
                    var best = evals.MinBy(x => x["val_loss"]!.GetValue<double>())!;
                    md.Append($"; validation loss {Num(evals[^1]["val_loss"])} at the last evaluation (step {evals[^1]["step"]}), best {Num(best["val_loss"])} at step {best["step"]}");
                }
                else md.Append("; no validation loss was recorded");
                md.Append(".\n\n");
            }
            else
            {
                md.Append("Training history: not found (no history.json).\n\n");
                missing.Add($"training history of {folder}");
            }
        }

        // evaluation
        md.Append("## Evaluation\n\n");
        if (evaluation is null)
        {
            md.Append("No evaluation was given (`--eval DIR`, the folder `ftk compare --out` wrote), so no measured result is reported and the front matter has no model-index.\n\n");
            missing.Add("evaluation");
        }
        else
        {
            if (approaches is not null)
            {
                var level = evaluation["level"] is JsonValue lv && lv.TryGetValue<double>(out var l) ? $"{l:P0} interval" : "bootstrap interval (level not recorded in report.json)";
                md.Append($"From {Show(_evaluation!)}, on the test set given to `ftk compare`:\n\n");
                md.Append($"| approach | accuracy | {level} | macro-F1 | trainable parameters | latency (ms) | cost / 1,000 requests |\n| --- | ---: | --- | ---: | ---: | ---: | ---: |\n");
                foreach (var a in approaches.OfType<JsonObject>())
                {
                    var ci = a["accuracy_ci"] as JsonArray;
                    var mark = ReferenceEquals(a, chosen) ? " (this model)" : "";
                    md.Append($"| {Cell(a["name"]?.ToString())}{mark} | {Num(a["accuracy"])} | {(ci is { Count: 2 } ? $"[{Num(ci[0])}, {Num(ci[1])}]" : "not recorded")} | " +
                              $"{Num(a["macro_f1"])} | {Num(a["trainable_params"])} | {Num(a["latency_ms"])} | {Num(a["cost_per_1k"])} |\n");
                }
                md.Append('\n');
                if (evaluation["recommendation"]?.GetValue<string>() is { } rec) md.Append("Recommendation of the comparison: ").Append(rec).Append("\n\n");
            }
            if (chosenNote is not null) md.Append(chosenNote).Append("\n\n");
        }

        // audit
        md.Append("## Bias audit\n\n");
        if (audit is null)
        {
            md.Append("No audit was given (`--audit DIR`, the folder `ftk audit --out` wrote): the model has not been checked for differences between groups.\n\n");
            missing.Add("bias audit");
        }
        else AppendBias(md, audit);
        md.Append("## Leakage and memorisation\n\n");
        if (audit is null)
        {
            md.Append("No audit was given (`--audit DIR`): extraction, canary exposure and membership signal were not measured.\n\n");
            missing.Add("leakage and memorisation");
        }
        else AppendLeakage(md, audit);

        // limitations
        md.Append("## Limitations\n\n");
        md.Append("- The figures hold for data like the test set; they were measured once, and the intervals show how much they could move on another sample of the same kind.\n");
        if (parameters is { } n && n < 100_000_000)
            md.Append(string.Create(inv, $"- A model of {n:N0} parameters: it learns the form of its data far better than facts; do not rely on what it states.\n"));
        md.Append("- The kit's PII detectors find e-mail addresses, phone numbers, card numbers, IBANs and IP addresses; names and street addresses pass them.\n");
        if (missing.Count > 0) md.Append("- Not measured or not recorded for this card: ").Append(string.Join("; ", missing)).Append(".\n");
        md.Append('\n');

        // how to run
        md.Append("## How to run\n\n");
        AppendHowToRun(md, shipped, baseFolder, adapters.Select(a => Show(a.Directory)).ToList(), name);

        md.Append("## Sources\n\n");
        foreach (var s in sources.Distinct()) md.Append("- `").Append(s).Append("`\n");
        return new Built(md.ToString(), metrics);
    }

    private void AppendHowToRun(StringBuilder md, ShippedAs shipped, string baseFolder, IReadOnlyList<string> adapters, string name)
    {
        var adapterArgs = shipped == ShippedAs.Adapter ? string.Concat(adapters.Select(a => $" --adapter {a}")) : "";
        var modelArg = shipped == ShippedAs.Adapter ? baseFolder : ".";
        if (shipped == ShippedAs.Gguf)
        {
            var file = _ggufFile ?? "model.gguf";
            md.Append($"llama.cpp: `llama-cli -m {file} -p \"...\"`. Ollama, with the Modelfile written beside the file: `ollama create {Slug(name)} -f Modelfile`, " +
                      $"then `ollama run {Slug(name)}`. LM Studio opens the file as it is.\n\n");
            return;
        }
        md.Append("With the kit's command line (`ftk`):\n\n```bash\n");
        md.Append($"ftk generate --model {modelArg}{adapterArgs} --prompt \"...\"\n");
        md.Append($"ftk serve --model {modelArg}{(shipped == ShippedAs.Adapter ? string.Concat(adapters.Select(a => $" --adapter {Slug(Path.GetFileName(a))}={a}")) : "")} --port 8080   # OpenAI-compatible: /v1/chat/completions, /v1/completions, /v1/classify\n");
        md.Append($"ftk export --model {modelArg}{adapterArgs} --type q8_0 --out {Slug(name)}.gguf   # llama.cpp, Ollama, LM Studio\n```\n\n");
        md.Append("In C#:\n\n```csharp\n");
        md.Append($"using var model = FineTune.Kit.Models.CausalLM.Load(\"{modelArg}\");\n");
        if (shipped == ShippedAs.Adapter) foreach (var a in adapters) md.Append($"FineTune.Kit.Lora.LoraExtensions.LoadAdapter(model, \"{a}\");\n");
        md.Append("var reply = model.Generate(\"...\");\n```\n\n");
    }

    private static void AppendBias(StringBuilder md, JsonObject audit)
    {
        var any = false;
        if (audit["flip_rate"] is JsonValue flip)
        {
            any = true;
            md.Append($"Counterfactual flip rate (the label changes when only a protected attribute changes): {Num(flip)}");
            md.Append(audit["flip_rate_ci"] is JsonArray { Count: 2 } ci ? $" [{Num(ci[0])}, {Num(ci[1])}]" : "").Append(".\n\n");
        }
        if (audit["max_gap"] is JsonObject gap)
        {
            any = true;
            md.Append("Largest gap between groups: ").Append(string.Join(", ", gap.Select(p => $"{p.Key} {Plain(p.Value)}"))).Append(".\n\n");
        }
        if (audit["groups"] is JsonArray groups && groups.OfType<JsonObject>().ToList() is { Count: > 0 } rows)
        {
            any = true;
            var keys = rows.SelectMany(r => r.Where(p => p.Value is JsonValue).Select(p => p.Key)).Distinct().ToList();
            md.Append("| ").Append(string.Join(" | ", keys)).Append(" |\n|").Append(string.Concat(keys.Select(_ => " --- |"))).Append('\n');
            foreach (var r in rows) md.Append("| ").Append(string.Join(" | ", keys.Select(k => r[k] is { } v ? Cell(Plain(v)) : ""))).Append(" |\n");
            md.Append('\n');
        }
        if (!any) md.Append("The audit report holds no group or counterfactual results (run `ftk audit` with `--group` or `--counterfactuals`).\n\n");
    }

    private static void AppendLeakage(StringBuilder md, JsonObject audit)
    {
        var any = false;
        if (audit["extraction"] is JsonObject x)
        {
            any = true;
            md.Append($"Training-data extraction ({x["prefix_tokens"] ?? "?"}-token prefix, greedy continuation): exact reproduction of the rest " +
                      $"{Num(x["train_exact"])}{Ci(x["train_exact_ci"])} of training examples against {Num(x["heldout_exact"])}{Ci(x["heldout_exact_ci"])} of held-out examples");
            if (x["train_near_exact"] is JsonValue) md.Append($"; near-exact (edit similarity ≥ {Num(x["near_exact_threshold"])}) {Num(x["train_near_exact"])} against {Num(x["heldout_near_exact"])}");
            md.Append(".\n\n");
        }
        if (audit["membership"] is JsonObject m)
        {
            any = true;
            md.Append($"Membership signal: mean loss per token {Num(m["train_loss"])} on training examples and {Num(m["heldout_loss"])} on held-out ones; " +
                      $"gap {Num(m["gap"])}{Ci(m["gap_ci"])}, AUC of the loss as membership classifier {Num(m["auc"])}{Ci(m["auc_ci"])}.\n\n");
        }
        if (audit["canaries"] is JsonObject c)
        {
            any = true;
            md.Append($"Canary exposure: mean {Num(c["mean_inserted_exposure"])} bits for planted canaries and {Num(c["mean_control_exposure"])} bits for controls " +
                      $"never in the data (at most {Num(c["max_exposure"])} bits with {c["candidates"]} candidates).\n\n");
        }
        if (audit["output_pii"] is JsonObject pii)
        {
            any = true;
            md.Append($"Personal data in outputs ({Plain(pii["source"])}): {pii["findings_total"]} findings in {pii["texts"]} texts" +
                      (pii["in_training_data"] is JsonValue known ? $", {known} of them values from the training data" : "") + ".\n\n");
        }
        if (!any) md.Append("The audit report holds no leakage results (run `ftk audit` with `--extraction`).\n\n");
    }

    private static string Ci(JsonNode? node) => node is JsonArray { Count: 2 } a ? $" [{Num(a[0])}, {Num(a[1])}]" : "";

    /// <summary>A number as the file holds it (up to 4 decimals), or "not recorded".</summary>
    private static string Num(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d)
        ? Math.Abs(d) >= 1000 ? d.ToString("N0", CultureInfo.InvariantCulture)
            : d != 0 && Math.Abs(d) < 0.001 ? d.ToString("G4", CultureInfo.InvariantCulture)   // a learning rate of 3e-5 is not "0"
            : d.ToString("0.####", CultureInfo.InvariantCulture)
        : "not recorded";

    private static string Int(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<long>(out var n) ? n.ToString("N0", CultureInfo.InvariantCulture) : "not recorded";

    private static string Plain(JsonNode? node) => node switch
    {
        null => "not recorded",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<double>(out _) => Num(node),
        JsonValue v => v.ToJsonString(),
        JsonArray { Count: 2 } a when a.All(e => e is JsonValue) => $"[{Num(a[0])}, {Num(a[1])}]",
        _ => node.ToJsonString(),
    };

    private static string Cell(string? text) => (text ?? "").Replace("|", "\\|").Replace("\n", " ");

    private static string Slug(string name) => new(name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray());

    /// <summary>A Hub id looks like owner/name; a local path (absolute, relative, or one that exists here) is not one.</summary>
    private static bool IsHubId(string? value) =>
        value is not null && HubId().IsMatch(value) && !Directory.Exists(value) && !Path.IsPathRooted(value);

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    private static partial Regex HubId();

    /// <summary>How a path appears in the card: the folder's name and the file, never where it sits on this machine.</summary>
    private static string Shown(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        if (Directory.Exists(full)) return Path.GetFileName(full);
        var parent = Path.GetFileName(Path.GetDirectoryName(full) ?? "");
        return parent.Length == 0 ? Path.GetFileName(full) : $"{parent}/{Path.GetFileName(full)}";
    }

    private static PromptTemplate? SafePrompt(string dir, List<string> sources)
    {
        var p = PromptFile.TryLoad(dir);
        if (p is not null) sources.Add(Shown(PromptFile.PathIn(dir)));
        return p;
    }

    /// <summary>Parameters from the safetensors headers (shapes only, no weights read); null without safetensors.</summary>
    private static long? CountParameters(string dir)
    {
        if (!Directory.EnumerateFiles(dir, "*.safetensors").Any()) return null;
        var folder = Models.SafeTensorFolder.Open(dir);
        return folder.Names.Sum(n => folder.Entry(n).Shape.Aggregate(1L, (a, b) => a * b));
    }

    /// <summary>What a training folder of <c>ftk train</c> holds.</summary>
    private sealed class TrainingFolder
    {
        public TrainingFolder(string dir, Func<string, JsonNode?> read)
        {
            Directory = dir;
            var config = Path.Combine(dir, "adapter_config.json");
            Lora = File.Exists(config) ? read(config)?.AsObject() : null;
            var history = Path.Combine(dir, "history.json");
            History = File.Exists(history) ? read(history) as JsonArray : null;
            // the run's own settings when saved beside the adapter, else those of its newest checkpoint
            var settings = Path.Combine(dir, "trainer_settings.json");
            if (!File.Exists(settings) && Training.Checkpoint.Latest(Path.Combine(dir, "checkpoints")) is { } latest)
                settings = Path.Combine(latest, "trainer_settings.json");
            if (File.Exists(settings)) { SettingsPath = settings; Settings = read(settings)?.AsObject(); }
            if (File.Exists(PromptFile.PathIn(dir))) { Prompt = PromptFile.Load(dir); read(PromptFile.PathIn(dir)); }
        }

        public string Directory { get; }
        public JsonObject? Lora { get; }
        public JsonArray? History { get; }
        public JsonObject? Settings { get; }
        public string? SettingsPath { get; }
        public PromptTemplate? Prompt { get; }
    }
}
