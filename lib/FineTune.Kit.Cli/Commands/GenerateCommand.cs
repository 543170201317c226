using System.CommandLine;
using FineTune.Kit.Models;

namespace FineTune.Kit.Cli.Commands;

/// <summary>`ftk generate`: continue a prompt with the model.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var prompt = Cli.Required<string>("--prompt", "Text to continue");
        var maxNew = Cli.Optional("--max-new-tokens", "Most tokens to generate", 64);
        var temperature = Cli.Optional("--temperature", "Sampling temperature (0: greedy)", 0.0);
        var topK = Cli.Optional("--top-k", "Keep the k most likely tokens (0: all)", 0);
        var topP = Cli.Optional("--top-p", "Nucleus sampling threshold", 1.0);
        var penalty = Cli.Optional("--repetition-penalty", "Penalty for repeated tokens (1: none)", 1.0);
        var seed = Cli.Optional("--seed", "Sampling seed", 0L);
        var command = new Command("generate", "Generate a continuation of a prompt");
        foreach (var o in m.All().Concat<Option>([prompt, maxNew, temperature, topK, topP, penalty, seed])) command.Options.Add(o);
        command.Handle(parse =>
        {
            using var model = m.Load(parse);
            var text = model.Generate(parse.GetValue(prompt)!, new GenerationOptions
            {
                MaxNewTokens = parse.GetValue(maxNew), Temperature = parse.GetValue(temperature), TopK = parse.GetValue(topK),
                TopP = parse.GetValue(topP), RepetitionPenalty = parse.GetValue(penalty), Seed = parse.GetValue(seed),
            });
            Console.WriteLine(text);
            return 0;
        });
        return command;
    }
}
