using System.CommandLine;
using System.Globalization;
using System.Text;

namespace FineTune.Kit.Cli.Commands;

/// <summary>
/// `ftk score --model DIR [--adapter DIR] --ids "5 77 256" --json`: float32 logits for every position, for
/// cross-checks against other implementations.
/// </summary>
internal static class ScoreCommand
{
    public static Command Create()
    {
        var m = new ModelOptions();
        var ids = Cli.Required<string>("--ids", "Token ids separated by spaces or commas");
        var json = Cli.Optional("--json", "Print {\"logits\": [[...], ...]}", false);
        var command = new Command("score", "Print the model's logits for a sequence of token ids");
        foreach (var o in m.All().Concat<Option>([ids, json])) command.Options.Add(o);
        command.Handle(parse =>
        {
            var raw = parse.GetValue(ids)!.Split([' ', ',', '\t'], StringSplitOptions.RemoveEmptyEntries);
            var parsed = raw.Select(s => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
                : throw new ArgumentException($"--ids: '{s}' is not a token id")).ToArray();
            if (parsed.Length == 0) throw new ArgumentException("--ids: give at least one token id");
            using var model = m.Load(parse);
            // an index, not the id itself, says whether one is out of range: -1 is an id a user can type
            var at = Array.FindIndex(parsed, i => i < 0 || i >= model.Config.VocabSize);
            if (at >= 0 && parsed[at] is var bad) throw new ArgumentException($"--ids: token id {bad} is outside the vocabulary [0, {model.Config.VocabSize})");
            var logits = model.Logits(parsed);
            var sb = new StringBuilder(parse.GetValue(json) ? "{\"logits\": [" : "");
            for (int t = 0; t < logits.Length; t++)
            {
                if (parse.GetValue(json))
                {
                    sb.Append(t == 0 ? "[" : ", [");
                    sb.AppendJoin(", ", logits[t].Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
                    sb.Append(']');
                }
                else
                {
                    int best = Array.IndexOf(logits[t], logits[t].Max());
                    sb.AppendLine(CultureInfo.InvariantCulture, $"position {t}: id {parsed[t]} -> most likely next id {best} (logit {logits[t][best]:F4})");
                }
            }
            if (parse.GetValue(json)) sb.Append("]}");
            Console.WriteLine(sb.ToString());
            return 0;
        });
        return command;
    }
}
