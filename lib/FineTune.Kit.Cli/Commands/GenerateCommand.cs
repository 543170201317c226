using System.CommandLine;
using System.Text.Json;
using FineTune.Kit.Models;

namespace FineTune.Kit.Cli.Commands;

/// <summary>
/// `ftk generate`: continue a prompt with the model. Prints the new text; when the model's context ran out before a
/// stop token or --max-new-tokens, says so on stderr. With --json prints {"text", "finish_reason", "prompt_tokens",
/// "new_tokens"} (finish_reason: stop, length or context).
/// </summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var prompt = Cli.Required<string>("--prompt", "Text to continue (refused when longer than the model's context)");
        var maxNew = Cli.Optional("--max-new-tokens", "Most tokens to generate", 64, "--new-tokens").AtLeast(1);
        var temperature = Cli.Optional("--temperature", "Sampling temperature (0: greedy)", 0.0).NonNegative();
        var topK = Cli.Optional("--top-k", "Keep the k most likely tokens (0: all)", 0).AtLeast(0);
        var topP = Cli.Optional("--top-p", "Nucleus sampling: keep the most likely tokens up to this probability, in (0, 1]", 1.0).Between(0, 1, minOpen: true);
        var penalty = Cli.Optional("--repetition-penalty", "Penalty for repeated tokens (1: none)", 1.0).Positive();
        var seed = Cli.Optional("--seed", "Sampling seed", Seeds.Default).AtLeast(0);
        var json = Cli.Optional("--json", "Print text, finish_reason and token counts as JSON", false);
        var command = new Command("generate", "Generate a continuation of a prompt");
        foreach (var o in m.All().Concat<Option>([prompt, maxNew, temperature, topK, topP, penalty, seed, json])) command.Options.Add(o);
        command.Handle(parse =>
        {
            using var model = m.Load(parse);
            var result = model.GenerateText(parse.GetValue(prompt)!, new GenerationOptions
            {
                MaxNewTokens = parse.GetValue(maxNew), Temperature = parse.GetValue(temperature), TopK = parse.GetValue(topK),
                TopP = parse.GetValue(topP), RepetitionPenalty = parse.GetValue(penalty), Seed = parse.GetValue(seed),
            });
            var reason = result.Reason.ToString().ToLowerInvariant();
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["text"] = result.Text, ["finish_reason"] = reason, ["prompt_tokens"] = result.PromptTokens, ["new_tokens"] = result.NewTokens,
                }, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
                return 0;
            }
            Console.WriteLine(result.Text);
            if (result.Reason == FinishReason.Context)
                Cli.Note(parse, $"stopped after {result.NewTokens} new tokens: the prompt ({result.PromptTokens} tokens) and the continuation " +
                                $"filled the model's {model.Config.MaxPositions} positions (finish_reason: context)");
            return 0;
        });
        return command;
    }
}
