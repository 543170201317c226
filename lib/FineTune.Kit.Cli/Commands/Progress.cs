using FineTune.Kit.Training;
using Spectre.Console;

namespace FineTune.Kit.Cli.Commands;

/// <summary>A Spectre.Console progress bar with ETA driven by training steps (plain lines when output is redirected).</summary>
internal static class Progress
{
    public static void Run(string title, int totalSteps, Action<Action<StepMetrics>> work)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive || Console.IsOutputRedirected)
        {
            int every = Math.Max(1, totalSteps / 20);
            Console.WriteLine(title);
            work(m =>
            {
                if (m.Step % every == 0 || m.Step == totalSteps || m.ValLoss is not null)
                    Console.WriteLine($"  step {m.Step}/{totalSteps}  loss {m.Loss:F4}" + (m.ValLoss is { } v ? $"  val {v:F4}" : "") + $"  lr {m.Lr:G3}  {m.TokensPerSecond:F0} tok/s");
            });
            return;
        }
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title), maxValue: totalSteps);
                work(m =>
                {
                    task.Value = m.Step;
                    task.Description = Markup.Escape($"{title}  loss {m.Loss:F3}" + (m.ValLoss is { } v ? $" val {v:F3}" : ""));
                });
                task.Value = totalSteps;
            });
    }
}
