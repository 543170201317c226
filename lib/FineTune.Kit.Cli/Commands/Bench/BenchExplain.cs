using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using FineTune.Kit.Explain;
using FineTune.Kit.Models;

namespace FineTune.Kit.Cli.Commands.Bench;

/// <summary>
/// `ftk bench explain`: KernelSHAP on a 20-word input with the base model — model evaluations per second when
/// coalitions are batched into one forward pass, against one forward pass per coalition.
/// </summary>
internal static class BenchExplain
{
    public static Command Create()
    {
        var model = Cli.Optional("--model", "Model folder", Path.Combine("data", "sample", "base-model")).ExistingFolder();
        var samples = Cli.Optional("--samples", "KernelSHAP coalitions", 2048).AtLeast(1);
        var batch = Cli.Optional("--batch-size", "Coalitions per forward pass in the batched run", 64, "--batch").AtLeast(1);
        var command = new Command("explain", "KernelSHAP model evaluations per second, batched against one at a time");
        foreach (var o in new Option[] { model, samples, batch }) command.Options.Add(o);
        command.Handle(p =>
        {
            using var m = CausalLM.Load(p.GetValue(model)!, new LoadOptions { Device = "cpu" });
            const string text = "hello support the password reset email never arrives and I have checked the spam folder twice since Monday morning";
            double Rate(int batchSize, out Attribution a)
            {
                var sw = Stopwatch.StartNew();
                a = m.Explain(text, " account access", new ExplainOptions { Method = ExplainMethod.Shap, Samples = p.GetValue(samples), BatchSize = batchSize, Prefix = "Ticket: ", Suffix = "\nIntent:" });
                return a.Evaluations / sw.Elapsed.TotalSeconds;
            }
            Rate(p.GetValue(batch), out _);                                 // warm-up
            double batched = Rate(p.GetValue(batch), out var first), single = Rate(1, out var second);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{first.Features.Count} words, {first.Evaluations} coalitions: batched ({p.GetValue(batch)} per pass) {batched:F0} evaluations/s, one at a time {single:F0}/s, speed-up {batched / single:F1}x"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"both runs agree: largest attribution difference {first.Values.Zip(second.Values, (x, y) => Math.Abs(x - y)).Max():E1}"));
            return 0;
        });
        return command;
    }
}
