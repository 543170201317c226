namespace FineTune.Kit.Text.Jinja;

/// <summary>Rendered template text and the spans <c>{% generation %}</c> blocks wrote.</summary>
/// <param name="Text">The output.</param>
/// <param name="GenerationSpans">Character ranges of <paramref name="Text"/> written inside generation blocks.</param>
public sealed record JinjaOutput(string Text, IReadOnlyList<Range> GenerationSpans);

/// <summary>
/// A parsed Jinja template, rendered by the kit's own interpreter of the subset chat templates use: <c>if/elif/else</c>,
/// <c>for</c> (with <c>loop</c>, <c>else</c>, an <c>if</c> filter, break/continue), <c>set</c> (also block and
/// namespace-attribute forms), <c>macro</c>, <c>filter</c> blocks, <c>generation</c> blocks, the usual filters and
/// tests, Python string and dict methods, slicing, and the globals <c>raise_exception</c>, <c>strftime_now</c>,
/// <c>range</c>, <c>namespace</c>. Whitespace handling is that of Hugging Face chat templates (trim_blocks and
/// lstrip_blocks on). Unsupported tags, filters and tests are refused by name.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly List<Node> program;

    private JinjaTemplate(string source, string name, List<Node> program)
    {
        Source = source;
        Name = name;
        this.program = program;
        HasGenerationBlocks = ContainsGeneration(program);
    }

    /// <summary>The template text.</summary>
    public string Source { get; }

    /// <summary>Where the template came from (used in error messages).</summary>
    public string Name { get; }

    /// <summary>Whether the template marks assistant output with <c>{% generation %}</c> blocks.</summary>
    public bool HasGenerationBlocks { get; }

    /// <summary>Parses a template; syntax errors name the template, line and construct.</summary>
    public static JinjaTemplate Parse(string source, string name = "chat template") => new(source, name, JinjaParser.Parse(source, name));

    /// <summary>
    /// Renders with the given variables (strings, numbers, booleans, lists, dictionaries, JSON nodes).
    /// <paramref name="now"/> is what <c>strftime_now</c> reports (the local time when not given).
    /// </summary>
    public JinjaOutput Render(IReadOnlyDictionary<string, object?> variables, DateTime? now = null)
    {
        var globals = new Scope(null);
        JinjaGlobals.AddTo(globals, now ?? DateTime.Now);
        foreach (var (k, v) in variables) globals.Set(k, JinjaValues.FromDotNet(v));
        var (text, spans) = new JinjaInterpreter(Name).Render(program, globals);
        return new JinjaOutput(text, spans);
    }

    private static bool ContainsGeneration(IEnumerable<Node> nodes) => nodes.Any(n => n switch
    {
        GenerationNode => true,
        IfNode i => i.Branches.Any(b => ContainsGeneration(b.Body)) || ContainsGeneration(i.Else),
        ForNode f => ContainsGeneration(f.Body) || ContainsGeneration(f.Else),
        SetNode { Body: { } b } => ContainsGeneration(b),
        MacroNode m => ContainsGeneration(m.Body),
        FilterBlockNode fb => ContainsGeneration(fb.Body),
        _ => false,
    });
}
