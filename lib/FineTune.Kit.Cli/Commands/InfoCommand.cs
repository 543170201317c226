using System.CommandLine;
using Spectre.Console;

namespace FineTune.Kit.Cli.Commands;

/// <summary>
/// `ftk info --model DIR`: architecture, parameter count, dtypes and tokenizer of a model folder;
/// `ftk info FILE.gguf [--json]`: a GGUF file's metadata and tensor table.
/// </summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var m = new ModelOptions(modelRequired: false);
        var gguf = new Argument<string?>("FILE.gguf") { Description = "A GGUF file to describe instead of a model folder", Arity = ArgumentArity.ZeroOrOne };
        var json = Cli.Optional("--json", "With a GGUF file: print its metadata and tensors as JSON", false);
        var command = new Command("info", "Show a model folder's architecture, size, dtypes and tokenizer, or a GGUF file's metadata and tensors") { gguf, json };
        foreach (var o in m.All(withAdapter: false)) command.Options.Add(o);
        command.Handle(parse =>
        {
            if (parse.GetValue(gguf) is { } path)
            {
                if (parse.GetResult(m.Model) is { Implicit: false }) throw new ArgumentException("give either --model DIR or FILE.gguf, not both");
                var file = Serving.GgufFile.Read(path);
                if (parse.GetValue(json)) Console.WriteLine(GgufInfo.Json(file).ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
                else GgufInfo.Print(file);
                return 0;
            }
            if (parse.GetValue(m.Model) is not { } dir) throw new ArgumentException("give --model DIR (a model folder) or FILE.gguf");
            if (parse.GetValue(json)) throw new ArgumentException("--json describes a GGUF file: ftk info FILE.gguf --json");
            var stored = Models.SafeTensorFolder.Open(dir);
            var dtypes = stored.Names.GroupBy(n => stored.Entry(n).DType).Select(g => $"{g.Key} ×{g.Count()}");
            using var model = m.Load(parse);
            var c = model.Config;
            var table = new Table().AddColumn("property").AddColumn("value");
            table.AddRow("model_type", $"{c.ModelType} ({c.Family})");
            table.AddRow("layers / hidden / heads / kv heads", $"{c.NumLayers} / {c.HiddenSize} / {c.NumHeads} / {c.NumKvHeads}");
            table.AddRow("mlp / head dim / max positions", $"{c.IntermediateSize} / {c.HeadDim} / {c.MaxPositions}");
            if (c.Family != Models.ModelFamily.Gpt2)
            {
                var s = c.RopeScaling;
                table.AddRow("rope", $"theta {c.RopeTheta:G}" + (s is null || s.Type == "default" ? "" : $", {s.Type} scaling ×{s.Factor:G}"));
                int windowed = Enumerable.Range(0, c.NumLayers).Count(l => c.LayerWindow(l) is not null);
                table.AddRow("attention", c.SlidingWindow is { } w && windowed > 0
                    ? $"sliding window {w} ({(windowed == c.NumLayers ? "every layer" : $"{windowed} of {c.NumLayers} layers")})"
                    : "full causal");
            }
            table.AddRow("vocabulary", $"{c.VocabSize}" + (c.TieWordEmbeddings ? " (tied head)" : ""));
            table.AddRow("parameters", $"{model.ParameterCount:N0}");
            table.AddRow("stored dtypes", string.Join(", ", dtypes));
            table.AddRow("device", model.Device.ToString());
            var tok = model.Tokenizer;
            table.AddRow("tokenizer", tok is null ? "none" : $"{tok.VocabSize} tokens, {tok.SpecialTokens.Count} special, bos={tok.BosId} eos={tok.EosId} pad={tok.PadId}");
            if (model.UnexpectedKeys.Count > 0) table.AddRow("unused tensors", string.Join(", ", model.UnexpectedKeys.Take(5)));
            Cli.Out.Write(table);
            return 0;
        });
        return command;
    }
}
