using System.CommandLine;
using System.Text;
using FineTune.Kit.Prompting;

namespace FineTune.Kit.Cli.Commands;

/// <summary>
/// The options that shape a classification prompt, shared by `ftk train` and `ftk compare`: --instruction,
/// --input-prefix, --separator, --output-prefix and --labels-as. Values are read with backslash escapes (\n newline,
/// \t tab, \\ backslash), since a newline is awkward to type on a command line.
/// </summary>
internal sealed class PromptOptions
{
    private const string Escapes = @"\n, \t and \\ stand for newline, tab and backslash";

    public Option<string> Instruction { get; } = Cli.Optional("--instruction", $"Classifier prompt: text that opens it (empty for none); {Escapes}", "Classify the text.");
    public Option<string> InputPrefix { get; } = Cli.Optional("--input-prefix", $"Classifier prompt: text before the input; {Escapes}", "Text: ");
    public Option<string> Separator { get; } = Cli.Optional("--separator", $"Classifier prompt: text between the input and the output prefix; {Escapes}", @"\n");
    public Option<string> OutputPrefix { get; } = Cli.Optional("--output-prefix", $"Classifier prompt: text right before the label; {Escapes}", "Label:");
    public Option<string> LabelsAs { get; } = Cli.Optional("--labels-as",
        "Classifier prompt: labels written as words (shipping_delay as \" shipping delay\") or as they are (identity: \" shipping_delay\")", "words");

    public PromptOptions() => LabelsAs.AcceptOnlyFromAmong("words", "identity");

    public IEnumerable<Option> All => [Instruction, InputPrefix, Separator, OutputPrefix, LabelsAs];

    /// <summary>True when at least one prompt option was given on the command line (not left at its default).</summary>
    public bool AnyGiven(ParseResult parse) => All.Any(o => Given(parse, o));

    /// <summary>The template the options describe, with <paramref name="labels"/> verbalised as --labels-as says.</summary>
    public PromptTemplate Build(ParseResult parse, IEnumerable<string> labels) => new PromptTemplate
    {
        Instruction = Value(parse, Instruction),
        InputPrefix = Value(parse, InputPrefix),
        InputOutputSeparator = Value(parse, Separator),
        OutputPrefix = Value(parse, OutputPrefix),
    }.WithLabels(Verbalize(parse, labels));

    /// <summary>
    /// A saved template (an adapter's prompt.json) with every option given on the command line put in its place, and
    /// any of <paramref name="labels"/> it does not know added as --labels-as says. Each change is reported to
    /// <paramref name="note"/>; options left at their defaults change nothing.
    /// </summary>
    public PromptTemplate Apply(PromptTemplate saved, ParseResult parse, IEnumerable<string> labels, Action<string> note)
    {
        var t = saved;
        string Replace(Option<string> option, string old)
        {
            if (!Given(parse, option)) return old;
            var value = Value(parse, option);
            if (value != old) note($"{option.Name} \"{Escape(value)}\" replaces \"{Escape(old)}\"");
            return value;
        }
        t = t with
        {
            Instruction = Replace(Instruction, t.Instruction),
            InputPrefix = Replace(InputPrefix, t.InputPrefix),
            InputOutputSeparator = Replace(Separator, t.InputOutputSeparator),
            OutputPrefix = Replace(OutputPrefix, t.OutputPrefix),
        };
        var all = labels.ToList();
        if (Given(parse, LabelsAs))
        {
            var verbalizer = Verbalize(parse, t.Verbalizer.Labels.Concat(all).Distinct());
            if (t.Verbalizer.Labels.Any(l => t.Verbalizer.Verbalize(l) != verbalizer.Verbalize(l)))
                note($"--labels-as {parse.GetValue(LabelsAs)} replaces the label texts");
            return t.WithLabels(verbalizer);
        }
        var missing = all.Where(l => !t.Verbalizer.Labels.Contains(l)).ToList();
        if (missing.Count == 0) return t;
        note($"labels it was not trained on, written as {parse.GetValue(LabelsAs)}: {string.Join(", ", missing)}");
        var extra = Verbalize(parse, missing);
        var v = t.Verbalizer;
        foreach (var l in missing) v = v.Map(l, extra.Verbalize(l));
        return t.WithLabels(v);
    }

    /// <summary>One line describing a template: the prompt with "{text}" for the input, then the label texts.</summary>
    public static string Describe(PromptTemplate t) =>
        $"prompt \"{Escape(t.Render("{text}"))}\" + {string.Join(" | ", t.Verbalizer.Continuations.Select(c => $"\"{Escape(c)}\""))}";

    /// <summary>Reads backslash escapes: \n newline, \t tab, \\ backslash; any other escape is an error naming the option.</summary>
    public static string Unescape(string value, string option)
    {
        var sb = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] != '\\') { sb.Append(value[i]); continue; }
            if (++i == value.Length) throw new ArgumentException($"{option}: \"{value}\" ends with a lone backslash (write \\\\ for a backslash)");
            sb.Append(value[i] switch
            {
                'n' => '\n',
                't' => '\t',
                '\\' => '\\',
                var c => throw new ArgumentException($"{option}: \"{value}\" has the unknown escape \\{c} (known: \\n, \\t, \\\\)"),
            });
        }
        return sb.ToString();
    }

    /// <summary>The inverse of <see cref="Unescape"/>, for printing: newline as \n, tab as \t, backslash as \\.</summary>
    public static string Escape(string text) => text.Replace("\\", @"\\").Replace("\n", @"\n").Replace("\t", @"\t");

    private static bool Given(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    private static string Value(ParseResult parse, Option<string> option) => Unescape(parse.GetValue(option)!, option.Name);

    private LabelVerbalizer Verbalize(ParseResult parse, IEnumerable<string> labels) =>
        parse.GetValue(LabelsAs) == "identity" ? LabelVerbalizer.Identity(labels) : LabelVerbalizer.AsWords(labels);
}
