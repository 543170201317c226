using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using FineTune.Kit.Models;
using FineTune.Kit.Serving;

namespace FineTune.Kit.Cli.Commands.Bench;

/// <summary>
/// `ftk bench export`: GGUF export throughput of a model folder for F32, F16 and Q8_0, each run on the same loaded
/// model in turn (best of the repeats), as seconds, MB/s of model weights read, and file size against F32.
/// </summary>
internal static class BenchExport
{
    public static Command Create()
    {
        var model = Cli.Optional("--model", "Model folder", Path.Combine("data", "sample", "base-model")).ExistingFolder();
        var repeats = Cli.Optional("--repeats", "Exports per type; the fastest counts", 3).AtLeast(1);
        var json = Cli.Optional("--json", "Print the figures as JSON", false);
        var command = new Command("export", "GGUF export seconds and MB/s for F32, F16 and Q8_0 on one model") { model, repeats, json };
        command.Handle(p =>
        {
            using var m = CausalLM.Load(p.GetValue(model)!, new LoadOptions { Device = "cpu" });
            var weightBytes = m.ParameterCount * 4.0;
            var dir = Path.Combine(Path.GetTempPath(), "ftk-bench-export-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            var rows = new JsonArray();
            try
            {
                long? f32Bytes = null;
                double? f32Seconds = null;
                foreach (var type in new[] { GgufFileType.F32, GgufFileType.F16, GgufFileType.Q8_0 })
                {
                    var path = Path.Combine(dir, $"model.{type}.gguf");
                    var best = double.MaxValue;
                    for (var r = 0; r < p.GetValue(repeats) + 1; r++)          // the first run warms up
                    {
                        var sw = Stopwatch.StartNew();
                        GgufExporter.Export(m, path, type);
                        if (r > 0) best = Math.Min(best, sw.Elapsed.TotalSeconds);
                    }
                    var bytes = new FileInfo(path).Length;
                    f32Bytes ??= bytes;
                    f32Seconds ??= best;
                    rows.Add(new JsonObject
                    {
                        ["type"] = type.ToString(), ["seconds"] = Math.Round(best, 4), ["file_bytes"] = bytes,
                        ["weights_mb_per_second"] = Math.Round(weightBytes / 1e6 / best, 1),
                        ["size_vs_f32"] = Math.Round((double)bytes / f32Bytes.Value, 3), ["time_vs_f32"] = Math.Round(best / f32Seconds.Value, 3),
                    });
                }
            }
            finally { Directory.Delete(dir, recursive: true); }
            var result = new JsonObject { ["model"] = p.GetValue(model), ["parameters"] = m.ParameterCount, ["types"] = rows };
            if (p.GetValue(json)) { Console.WriteLine(result.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true })); return 0; }
            foreach (var row in rows)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{row!["type"],-5} {(double)row["seconds"]!:F3} s, {(double)row["weights_mb_per_second"]!:F0} MB/s of weights, file {(long)row["file_bytes"]! / 1e6:F2} MB " +
                    $"({(double)row["size_vs_f32"]!:0.00}× F32's size, {(double)row["time_vs_f32"]!:0.00}× its time)"));
            Console.WriteLine("tokens/s against llama.cpp on these files: dotnet run --project bench/FineTune.Kit.Bench -c Release (see the README)");
            return 0;
        });
        return command;
    }
}
