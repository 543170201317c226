using System.Globalization;

namespace FineTune.Kit.Text.Jinja;

/// <summary>
/// Builds the syntax tree from lexer tokens. Grammar and operator precedence follow Jinja: conditional, or, and, not,
/// comparisons (and <c>in</c>), <c>+ -</c>, <c>~</c>, <c>* / // %</c>, <c>**</c>, unary sign, then filters and tests
/// bound to the primary they follow.
/// </summary>
internal sealed class JinjaParser
{
    private static readonly HashSet<string> Comparisons = ["==", "!=", "<", "<=", ">", ">="];
    private static readonly HashSet<string> NotATestArgument = ["else", "or", "and", "is", "if", "in", "not"];

    private readonly List<JinjaToken> tokens;
    private readonly string name;
    private int at;

    private JinjaParser(List<JinjaToken> tokens, string name)
    {
        this.tokens = tokens;
        this.name = name;
    }

    public static List<Node> Parse(string source, string name)
    {
        var parser = new JinjaParser(JinjaLexer.Tokenize(source, name), name);
        var (body, end) = parser.ParseBody(null, []);
        if (end is not null) throw parser.Error(parser.Peek.Line, $"'{{% {end} %}}'", "has no block to close");
        return body;
    }

    private JinjaToken Peek => tokens[at];
    private JinjaToken PeekAt(int offset) => tokens[Math.Min(at + offset, tokens.Count - 1)];
    private JinjaToken Next() => tokens[at++];

    // Parses nodes until one of endTags (returned, its '{%' and name consumed) or the end of the template.
    private (List<Node> Body, string? End) ParseBody(string? opener, string[] endTags, int openerLine = 0)
    {
        var body = new List<Node>();
        while (true)
        {
            var t = Peek;
            switch (t.Kind)
            {
                case JinjaTokenKind.End:
                    if (opener is not null)
                        throw Error(openerLine, $"'{{% {opener} %}}'", $"is never closed (expected {string.Join(" or ", endTags.Select(e => $"'{{% {e} %}}'"))})");
                    return (body, null);
                case JinjaTokenKind.Text:
                    Next();
                    body.Add(new TextNode(t.Line, t.Value));
                    break;
                case JinjaTokenKind.OpenExpression:
                    Next();
                    var e = ParseExpression();
                    Expect(JinjaTokenKind.CloseExpression, "}}", "expression");
                    body.Add(new OutputNode(t.Line, e));
                    break;
                case JinjaTokenKind.OpenStatement:
                    var tag = PeekAt(1);
                    if (tag.Kind != JinjaTokenKind.Name) throw Error(tag.Line, "'{%' tag", $"expected a tag name, found {tag}");
                    if (endTags.Contains(tag.Value))
                    {
                        Next(); Next();
                        return (body, tag.Value);
                    }
                    Next(); Next();
                    body.Add(ParseStatement(tag));
                    break;
                default:
                    throw Error(t.Line, "template", $"unexpected {t}");
            }
        }
    }

    private Node ParseStatement(JinjaToken tag)
    {
        var line = tag.Line;
        switch (tag.Value)
        {
            case "if": return ParseIf(line);
            case "for": return ParseFor(line);
            case "set": return ParseSet(line);
            case "macro": return ParseMacro(line);
            case "filter": return ParseFilterBlock(line);
            case "generation":
            {
                CloseTag("generation");
                var (body, _) = ParseBody("generation", ["endgeneration"], line);
                CloseTag("endgeneration");
                return new GenerationNode(line, body);
            }
            case "break": CloseTag("break"); return new BreakNode(line);
            case "continue": CloseTag("continue"); return new ContinueNode(line);
            case "endif" or "endfor" or "endset" or "endmacro" or "endfilter" or "endgeneration" or "elif" or "else":
                throw Error(line, $"'{{% {tag.Value} %}}'", "has no open block to belong to");
            default:
                throw Error(line, $"'{{% {tag.Value} %}}'", "is not a supported tag (supported: if, for, set, macro, filter, generation, break, continue)");
        }
    }

    private IfNode ParseIf(int line)
    {
        var branches = new List<(Expr, List<Node>)>();
        var test = ParseExpression();
        CloseTag("if");
        while (true)
        {
            var (body, end) = ParseBody("if", ["elif", "else", "endif"], line);
            branches.Add((test, body));
            if (end == "elif") { test = ParseExpression(); CloseTag("elif"); continue; }
            if (end == "else")
            {
                CloseTag("else");
                var (elseBody, _) = ParseBody("if", ["endif"], line);
                CloseTag("endif");
                return new IfNode(line, branches, elseBody);
            }
            CloseTag("endif");
            return new IfNode(line, branches, []);
        }
    }

    private ForNode ParseFor(int line)
    {
        var targets = ParseTargets("for");
        if (!Peek.IsName("in")) throw Error(Peek.Line, "'{% for %}'", $"expected 'in', found {Peek}");
        Next();
        var iterable = ParseOr(); // not a full expression: a trailing 'if' filters items, it is not a conditional
        Expr? filter = null;
        if (Peek.IsName("if")) { Next(); filter = ParseOr(); }
        if (Peek.IsName("recursive")) throw Error(Peek.Line, "'{% for ... recursive %}'", "recursive loops are not supported");
        CloseTag("for");
        var (body, end) = ParseBody("for", ["else", "endfor"], line);
        var elseBody = new List<Node>();
        if (end == "else")
        {
            CloseTag("else");
            (elseBody, _) = ParseBody("for", ["endfor"], line);
        }
        CloseTag("endfor");
        return new ForNode(line, targets, iterable, filter, body, elseBody);
    }

    private SetNode ParseSet(int line)
    {
        var first = ExpectName("'{% set %}'");
        if (Peek.IsOp("."))
        {
            Next();
            var attr = ExpectName("'{% set %}'");
            Expect(JinjaTokenKind.Operator, "=", "'{% set %}'");
            var v = ParseExpression();
            CloseTag("set");
            return new SetNode(line, [first], attr, v, null);
        }
        var targets = new List<string> { first };
        while (Peek.IsOp(",")) { Next(); targets.Add(ExpectName("'{% set %}'")); }
        if (Peek.IsOp("="))
        {
            Next();
            var value = ParseTupleOrExpression();
            CloseTag("set");
            return new SetNode(line, targets, null, value, null);
        }
        if (targets.Count > 1) throw Error(line, "'{% set %}'", "a block set assigns one name");
        CloseTag("set");
        var (body, _) = ParseBody("set", ["endset"], line);
        CloseTag("endset");
        return new SetNode(line, targets, null, null, body);
    }

    private MacroNode ParseMacro(int line)
    {
        var macroName = ExpectName("'{% macro %}'");
        Expect(JinjaTokenKind.Operator, "(", "'{% macro %}'");
        var parameters = new List<(string, Expr?)>();
        while (!Peek.IsOp(")"))
        {
            var p = ExpectName("'{% macro %}' parameter list");
            Expr? d = null;
            if (Peek.IsOp("=")) { Next(); d = ParseExpression(); }
            parameters.Add((p, d));
            if (!Peek.IsOp(",")) break;
            Next();
        }
        Expect(JinjaTokenKind.Operator, ")", "'{% macro %}'");
        CloseTag("macro");
        var (body, _) = ParseBody("macro", ["endmacro"], line);
        CloseTag("endmacro");
        return new MacroNode(line, macroName, parameters, body);
    }

    private FilterBlockNode ParseFilterBlock(int line)
    {
        var filter = ExpectName("'{% filter %}'");
        var (args, kwargs) = Peek.IsOp("(") ? ParseCallArguments() : ([], []);
        CloseTag("filter");
        var (body, _) = ParseBody("filter", ["endfilter"], line);
        CloseTag("endfilter");
        return new FilterBlockNode(line, filter, args, kwargs, body);
    }

    private List<string> ParseTargets(string construct)
    {
        var paren = Peek.IsOp("(");
        if (paren) Next();
        var targets = new List<string> { ExpectName($"'{{% {construct} %}}'") };
        while (Peek.IsOp(",")) { Next(); targets.Add(ExpectName($"'{{% {construct} %}}'")); }
        if (paren) Expect(JinjaTokenKind.Operator, ")", $"'{{% {construct} %}}'");
        return targets;
    }

    // ---------- expressions ----------

    // A bare "a, b" (no brackets) is a tuple where Jinja allows one: set values.
    private Expr ParseTupleOrExpression()
    {
        var first = ParseExpression();
        if (!Peek.IsOp(",")) return first;
        var items = new List<Expr> { first };
        while (Peek.IsOp(",")) { Next(); items.Add(ParseExpression()); }
        return new ListExpr(first.Line, items);
    }

    public Expr ParseExpression()
    {
        var e = ParseOr();
        if (!Peek.IsName("if")) return e;
        var line = Next().Line;
        var test = ParseOr();
        Expr? otherwise = null;
        if (Peek.IsName("else")) { Next(); otherwise = ParseExpression(); }
        return new ConditionalExpr(line, test, e, otherwise);
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (Peek.IsName("or")) { var l = Next().Line; left = new BinaryExpr(l, "or", left, ParseAnd()); }
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (Peek.IsName("and")) { var l = Next().Line; left = new BinaryExpr(l, "and", left, ParseNot()); }
        return left;
    }

    private Expr ParseNot()
    {
        if (Peek.IsName("not")) { var l = Next().Line; return new UnaryExpr(l, "not", ParseNot()); }
        return ParseCompare();
    }

    private Expr ParseCompare()
    {
        var left = ParseAdditive();
        while (true)
        {
            var t = Peek;
            if (t.Kind == JinjaTokenKind.Operator && Comparisons.Contains(t.Value)) { Next(); left = new BinaryExpr(t.Line, t.Value, left, ParseAdditive()); }
            else if (t.IsName("in")) { Next(); left = new BinaryExpr(t.Line, "in", left, ParseAdditive()); }
            else if (t.IsName("not") && PeekAt(1).IsName("in")) { Next(); Next(); left = new BinaryExpr(t.Line, "not in", left, ParseAdditive()); }
            else return left;
        }
    }

    private Expr ParseAdditive()
    {
        var left = ParseConcat();
        while (Peek.IsOp("+") || Peek.IsOp("-")) { var t = Next(); left = new BinaryExpr(t.Line, t.Value, left, ParseConcat()); }
        return left;
    }

    private Expr ParseConcat()
    {
        var left = ParseMultiplicative();
        while (Peek.IsOp("~")) { var t = Next(); left = new BinaryExpr(t.Line, "~", left, ParseMultiplicative()); }
        return left;
    }

    private Expr ParseMultiplicative()
    {
        var left = ParsePower();
        while (Peek.IsOp("*") || Peek.IsOp("/") || Peek.IsOp("//") || Peek.IsOp("%"))
        {
            var t = Next();
            left = new BinaryExpr(t.Line, t.Value, left, ParsePower());
        }
        return left;
    }

    private Expr ParsePower()
    {
        var left = ParseUnary();
        while (Peek.IsOp("**")) { var t = Next(); left = new BinaryExpr(t.Line, "**", left, ParseUnary()); }
        return left;
    }

    private Expr ParseUnary()
    {
        if (Peek.IsOp("-") || Peek.IsOp("+"))
        {
            var t = Next();
            return ParseFiltersAndTests(new UnaryExpr(t.Line, t.Value, ParseUnaryNoFilter()));
        }
        return ParseFiltersAndTests(ParsePostfix(ParsePrimary()));
    }

    private Expr ParseUnaryNoFilter()
    {
        if (Peek.IsOp("-") || Peek.IsOp("+")) { var t = Next(); return new UnaryExpr(t.Line, t.Value, ParseUnaryNoFilter()); }
        return ParsePostfix(ParsePrimary());
    }

    private Expr ParseFiltersAndTests(Expr e)
    {
        while (true)
        {
            if (Peek.IsOp("|"))
            {
                var line = Next().Line;
                var filter = ExpectName("filter");
                while (Peek.IsOp(".")) { Next(); filter += "." + ExpectName("filter"); }
                var (args, kwargs) = Peek.IsOp("(") ? ParseCallArguments() : ([], []);
                e = new FilterExpr(line, e, filter, args, kwargs);
            }
            else if (Peek.IsName("is"))
            {
                var line = Next().Line;
                var negated = false;
                if (Peek.IsName("not")) { Next(); negated = true; }
                var t = Peek;
                // tests named like keywords: "is none", "is true", "is false", "is in"
                if (t.Kind != JinjaTokenKind.Name) throw Error(t.Line, "'is' test", $"expected a test name, found {t}");
                Next();
                var test = t.Value;
                List<Expr> args = [];
                if (Peek.IsOp("(")) (args, _) = ParseCallArguments();
                else if (Peek.Kind is JinjaTokenKind.String or JinjaTokenKind.Integer or JinjaTokenKind.Float
                         || (Peek.Kind == JinjaTokenKind.Name && !NotATestArgument.Contains(Peek.Value))
                         || Peek.IsOp("[") || Peek.IsOp("{"))
                    args = [ParsePostfix(ParsePrimary())];
                e = new TestExpr(line, e, test, args, negated);
            }
            else return e;
        }
    }

    private Expr ParsePrimary()
    {
        var t = Next();
        switch (t.Kind)
        {
            case JinjaTokenKind.String:
                var s = t.Value;
                while (Peek.Kind == JinjaTokenKind.String) s += Next().Value; // adjacent literals join, as in Python
                return new LiteralExpr(t.Line, s);
            case JinjaTokenKind.Integer:
                return new LiteralExpr(t.Line, long.Parse(t.Value, CultureInfo.InvariantCulture));
            case JinjaTokenKind.Float:
                return new LiteralExpr(t.Line, double.Parse(t.Value, CultureInfo.InvariantCulture));
            case JinjaTokenKind.Name:
                return t.Value switch
                {
                    "true" or "True" => new LiteralExpr(t.Line, true),
                    "false" or "False" => new LiteralExpr(t.Line, false),
                    "none" or "None" => new LiteralExpr(t.Line, null),
                    _ => new NameExpr(t.Line, t.Value),
                };
            case JinjaTokenKind.Operator when t.Value == "(":
            {
                if (Peek.IsOp(")")) { Next(); return new ListExpr(t.Line, []); }
                var first = ParseExpression();
                if (Peek.IsOp(")")) { Next(); return first; }
                var items = new List<Expr> { first };
                while (Peek.IsOp(",")) { Next(); if (Peek.IsOp(")")) break; items.Add(ParseExpression()); }
                Expect(JinjaTokenKind.Operator, ")", "tuple");
                return new ListExpr(t.Line, items);
            }
            case JinjaTokenKind.Operator when t.Value == "[":
            {
                var items = new List<Expr>();
                while (!Peek.IsOp("]"))
                {
                    items.Add(ParseExpression());
                    if (!Peek.IsOp(",")) break;
                    Next();
                }
                Expect(JinjaTokenKind.Operator, "]", "list literal");
                return new ListExpr(t.Line, items);
            }
            case JinjaTokenKind.Operator when t.Value == "{":
            {
                var items = new List<(Expr, Expr)>();
                while (!Peek.IsOp("}"))
                {
                    var k = ParseExpression();
                    Expect(JinjaTokenKind.Operator, ":", "dict literal");
                    items.Add((k, ParseExpression()));
                    if (!Peek.IsOp(",")) break;
                    Next();
                }
                Expect(JinjaTokenKind.Operator, "}", "dict literal");
                return new DictExpr(t.Line, items);
            }
            default:
                throw Error(t.Line, "expression", $"unexpected {t}");
        }
    }

    private Expr ParsePostfix(Expr e)
    {
        while (true)
        {
            if (Peek.IsOp("."))
            {
                var line = Next().Line;
                var t = Next();
                if (t.Kind == JinjaTokenKind.Name) e = new AttributeExpr(line, e, t.Value);
                else if (t.Kind == JinjaTokenKind.Integer) e = new IndexExpr(line, e, new LiteralExpr(line, long.Parse(t.Value, CultureInfo.InvariantCulture)));
                else throw Error(t.Line, "attribute access", $"expected a name after '.', found {t}");
            }
            else if (Peek.IsOp("["))
            {
                var line = Next().Line;
                Expr? start = null, stop = null, step = null;
                if (!Peek.IsOp(":")) start = ParseExpression();
                if (Peek.IsOp(":"))
                {
                    Next();
                    if (!Peek.IsOp("]") && !Peek.IsOp(":")) stop = ParseExpression();
                    if (Peek.IsOp(":")) { Next(); if (!Peek.IsOp("]")) step = ParseExpression(); }
                    Expect(JinjaTokenKind.Operator, "]", "slice");
                    e = new SliceExpr(line, e, start, stop, step);
                }
                else
                {
                    Expect(JinjaTokenKind.Operator, "]", "subscript");
                    e = new IndexExpr(line, e, start!);
                }
            }
            else if (Peek.IsOp("("))
            {
                var line = Peek.Line;
                var (args, kwargs) = ParseCallArguments();
                e = new CallExpr(line, e, args, kwargs);
            }
            else return e;
        }
    }

    private (List<Expr>, List<(string, Expr)>) ParseCallArguments()
    {
        Expect(JinjaTokenKind.Operator, "(", "call");
        var args = new List<Expr>();
        var kwargs = new List<(string, Expr)>();
        while (!Peek.IsOp(")"))
        {
            if (Peek.Kind == JinjaTokenKind.Name && PeekAt(1).IsOp("="))
            {
                var k = Next().Value;
                Next();
                kwargs.Add((k, ParseExpression()));
            }
            else
            {
                if (Peek.IsOp("*")) throw Error(Peek.Line, "call", "'*' argument unpacking is not supported");
                if (kwargs.Count > 0) throw Error(Peek.Line, "call", "a positional argument follows a keyword argument");
                args.Add(ParseExpression());
            }
            if (!Peek.IsOp(",")) break;
            Next();
        }
        Expect(JinjaTokenKind.Operator, ")", "call");
        return (args, kwargs);
    }

    // ---------- helpers ----------

    private void CloseTag(string tag)
    {
        if (Peek.Kind != JinjaTokenKind.CloseStatement)
            throw Error(Peek.Line, $"'{{% {tag} %}}'", $"expected '%}}', found {Peek}");
        Next();
    }

    private string ExpectName(string construct)
    {
        var t = Next();
        if (t.Kind != JinjaTokenKind.Name) throw Error(t.Line, construct, $"expected a name, found {t}");
        return t.Value;
    }

    private void Expect(JinjaTokenKind kind, string value, string construct)
    {
        var t = Next();
        if (t.Kind != kind || t.Value != value) throw Error(t.Line, construct, $"expected '{value}', found {t}");
    }

    private JinjaException Error(int line, string construct, string message) => new($"{name}: line {line}: {construct}: {message}");
}
