using System.Text;

namespace FineTune.Kit.Text.Jinja;

/// <summary>
/// Evaluates the syntax tree into text. Scoping follows Jinja: a for loop's body has its own scope (so a
/// <c>set</c> inside it does not leak out; templates use <c>namespace()</c> for that), <c>if</c> does not, macros see
/// the scope they were defined in. Output goes to one builder so <c>{% generation %}</c> blocks can record where the
/// assistant's text lies.
/// </summary>
internal sealed class JinjaInterpreter
{
    private readonly string name;
    private readonly StringBuilder root = new();
    private readonly List<Range> generationSpans = [];
    private int depth;

    public JinjaInterpreter(string name) => this.name = name;

    public (string Text, List<Range> GenerationSpans) Render(List<Node> program, Scope globals)
    {
        Execute(program, new Scope(globals), root);
        return (root.ToString(), generationSpans);
    }

    private sealed class LoopControl(bool isBreak) : Exception
    {
        public bool IsBreak { get; } = isBreak;
    }

    private void Execute(List<Node> nodes, Scope scope, StringBuilder output)
    {
        foreach (var node in nodes) Execute(node, scope, output);
    }

    private void Execute(Node node, Scope scope, StringBuilder output)
    {
        try
        {
            switch (node)
            {
                case TextNode t: output.Append(t.Text); break;
                case OutputNode o: output.Append(JinjaValues.Str(Eval(o.Value, scope))); break;
                case IfNode i:
                    foreach (var (test, body) in i.Branches)
                        if (JinjaValues.Truthy(Eval(test, scope))) { Execute(body, scope, output); return; }
                    Execute(i.Else, scope, output);
                    break;
                case ForNode f: ExecuteFor(f, scope, output); break;
                case SetNode s: ExecuteSet(s, scope); break;
                case MacroNode m: scope.Set(m.Name, MakeMacro(m, scope)); break;
                case FilterBlockNode fb:
                {
                    var inner = new StringBuilder();
                    Execute(fb.Body, scope, inner);
                    var args = fb.Args.Select(a => Eval(a, scope)).ToList();
                    var kwargs = fb.Kwargs.ToDictionary(k => k.Item1, k => Eval(k.Item2, scope));
                    output.Append(JinjaValues.Str(JinjaFilters.Apply(fb.Filter, inner.ToString(), args, kwargs, this, scope)));
                    break;
                }
                case GenerationNode g:
                    if (!ReferenceEquals(output, root))
                        throw new JinjaRuntimeError("a generation block inside a macro, set or filter block is not supported (its position in the output is unknown)");
                    var start = output.Length;
                    Execute(g.Body, scope, output);
                    generationSpans.Add(start..output.Length);
                    break;
                case BreakNode: throw new LoopControl(true);
                case ContinueNode: throw new LoopControl(false);
                default: throw new JinjaRuntimeError($"cannot execute {node.GetType().Name}");
            }
        }
        catch (JinjaRuntimeError e)
        {
            throw new JinjaException($"{name}: line {node.Line}: {Construct(node)}: {e.Message}");
        }
    }

    private static string Construct(Node node) => node switch
    {
        OutputNode => "'{{ }}' expression",
        IfNode => "'{% if %}'",
        ForNode => "'{% for %}'",
        SetNode => "'{% set %}'",
        MacroNode => "'{% macro %}'",
        FilterBlockNode => "'{% filter %}'",
        GenerationNode => "'{% generation %}'",
        _ => node.GetType().Name,
    };

    private void ExecuteFor(ForNode f, Scope scope, StringBuilder output)
    {
        var iterable = Eval(f.Iterable, scope);
        var all = Iterate(iterable, "for loop");
        var loopScope = new Scope(scope);
        var items = new List<object?>();
        foreach (var item in all)
        {
            if (f.Filter is not null)
            {
                Bind(f.Targets, item, loopScope);
                if (!JinjaValues.Truthy(Eval(f.Filter, loopScope))) continue;
            }
            items.Add(item);
        }
        if (items.Count == 0) { Execute(f.Else, scope, output); return; }
        for (var i = 0; i < items.Count; i++)
        {
            var loop = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["index"] = (long)(i + 1), ["index0"] = (long)i,
                ["revindex"] = (long)(items.Count - i), ["revindex0"] = (long)(items.Count - i - 1),
                ["first"] = i == 0, ["last"] = i == items.Count - 1, ["length"] = (long)items.Count,
                ["previtem"] = i > 0 ? items[i - 1] : new JinjaUndefined("loop.previtem"),
                ["nextitem"] = i < items.Count - 1 ? items[i + 1] : new JinjaUndefined("loop.nextitem"),
            };
            var index = i;
            loop["cycle"] = new JinjaCallable("loop.cycle", (args, _) =>
                args.Count == 0 ? throw new JinjaRuntimeError("loop.cycle needs at least one value") : args[index % args.Count]);
            loopScope.Set("loop", loop);
            Bind(f.Targets, items[i], loopScope);
            try { Execute(f.Body, loopScope, output); }
            catch (LoopControl c) when (c.IsBreak) { break; }
            catch (LoopControl) { }
        }
    }

    private static void Bind(List<string> targets, object? value, Scope scope)
    {
        if (targets.Count == 1) { scope.Set(targets[0], value); return; }
        var parts = value as List<object?> ?? (value is string s ? JinjaValues.CodePoints(s) : null)
                    ?? throw new JinjaRuntimeError($"cannot unpack {JinjaValues.TypeName(value)} into {string.Join(", ", targets)}");
        if (parts.Count != targets.Count)
            throw new JinjaRuntimeError($"cannot unpack {parts.Count} values into {targets.Count} names ({string.Join(", ", targets)})");
        for (var i = 0; i < targets.Count; i++) scope.Set(targets[i], parts[i]);
    }

    private void ExecuteSet(SetNode s, Scope scope)
    {
        object? value;
        if (s.Body is not null)
        {
            var inner = new StringBuilder();
            Execute(s.Body, scope, inner);
            value = inner.ToString();
        }
        else value = Eval(s.Value!, scope);
        if (s.Attribute is not null)
        {
            if (scope.Get(s.Targets[0]) is not JinjaNamespace ns)
                throw new JinjaRuntimeError($"'{s.Targets[0]}' is not a namespace; only namespace() objects take attribute assignment");
            ns.Values[s.Attribute] = value;
            return;
        }
        Bind(s.Targets, value, scope);
    }

    private JinjaCallable MakeMacro(MacroNode m, Scope defined) => new(m.Name, (args, kwargs) =>
    {
        if (args.Count > m.Parameters.Count)
            throw new JinjaRuntimeError($"macro '{m.Name}' takes {m.Parameters.Count} arguments, got {args.Count}");
        var scope = new Scope(defined);
        for (var i = 0; i < m.Parameters.Count; i++)
        {
            var (p, d) = m.Parameters[i];
            object? v;
            if (i < args.Count) v = args[i];
            else if (kwargs.Remove(p, out var kv)) v = kv;
            else v = d is null ? new JinjaUndefined(p) : Eval(d, scope);
            scope.Set(p, v);
        }
        if (kwargs.Count > 0) throw new JinjaRuntimeError($"macro '{m.Name}' has no parameter '{kwargs.Keys.First()}'");
        var output = new StringBuilder();
        if (++depth > 200) throw new JinjaRuntimeError($"macro '{m.Name}' recursed more than 200 levels");
        try { Execute(m.Body, scope, output); }
        finally { depth--; }
        return output.ToString();
    });

    // ---------- expressions ----------

    public object? Eval(Expr e, Scope scope)
    {
        switch (e)
        {
            case LiteralExpr l: return l.Value;
            case NameExpr n: return scope.Get(n.Name);
            case ListExpr l: return l.Items.Select(i => Eval(i, scope)).ToList();
            case DictExpr d:
            {
                var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (var (k, v) in d.Items)
                    dict[Eval(k, scope) as string ?? throw new JinjaRuntimeError("dict literal keys must be strings")] = Eval(v, scope);
                return dict;
            }
            case AttributeExpr a: return GetAttribute(Eval(a.Target, scope), a.Name, Describe(a.Target));
            case IndexExpr i: return GetItem(Eval(i.Target, scope), Eval(i.Index, scope), Describe(i.Target));
            case SliceExpr s: return Slice(Eval(s.Target, scope), s, scope);
            case CallExpr c:
            {
                var callee = Eval(c.Callee, scope);
                if (callee is not JinjaCallable f)
                    throw new JinjaRuntimeError(callee is JinjaUndefined u ? $"'{u.Hint}' is undefined, it cannot be called" : $"{Describe(c.Callee)} is a {JinjaValues.TypeName(callee)}, not a function");
                var args = c.Args.Select(a => Eval(a, scope)).ToList();
                var kwargs = c.Kwargs.ToDictionary(k => k.Name, k => Eval(k.Value, scope), StringComparer.Ordinal);
                return f.Invoke(args, kwargs);
            }
            case FilterExpr f:
            {
                var target = Eval(f.Target, scope);
                var args = f.Args.Select(a => Eval(a, scope)).ToList();
                var kwargs = f.Kwargs.ToDictionary(k => k.Name, k => Eval(k.Value, scope), StringComparer.Ordinal);
                try { return JinjaFilters.Apply(f.Name, target, args, kwargs, this, scope); }
                catch (JinjaRuntimeError err) { throw new JinjaRuntimeError($"filter '{f.Name}': {err.Message}"); }
            }
            case TestExpr t:
            {
                var target = Eval(t.Target, scope);
                var args = t.Args.Select(a => Eval(a, scope)).ToList();
                bool result;
                try { result = JinjaTests.Apply(t.Name, target, args); }
                catch (JinjaRuntimeError err) { throw new JinjaRuntimeError($"test '{t.Name}': {err.Message}"); }
                return result != t.Negated;
            }
            case UnaryExpr u:
            {
                var v = Eval(u.Operand, scope);
                return u.Op switch
                {
                    "not" => !JinjaValues.Truthy(v),
                    "-" => v is long l ? (object)(-l) : v is double d ? -d : v is bool b ? (b ? -1L : 0L) : throw new JinjaRuntimeError($"cannot negate {JinjaValues.TypeName(v)}"),
                    _ => JinjaValues.IsNumber(v) ? v is bool bb ? (bb ? 1L : 0L) : v : throw new JinjaRuntimeError($"unary '+' needs a number, got {JinjaValues.TypeName(v)}"),
                };
            }
            case BinaryExpr b:
                if (b.Op == "and") { var l = Eval(b.Left, scope); return JinjaValues.Truthy(l) ? Eval(b.Right, scope) : l; }
                if (b.Op == "or") { var l = Eval(b.Left, scope); return JinjaValues.Truthy(l) ? l : Eval(b.Right, scope); }
                try { return JinjaOperators.Binary(b.Op, Eval(b.Left, scope), Eval(b.Right, scope)); }
                catch (JinjaRuntimeError err) { throw new JinjaRuntimeError($"'{b.Op}': {err.Message}"); }
            case ConditionalExpr c:
                return JinjaValues.Truthy(Eval(c.Test, scope)) ? Eval(c.Then, scope)
                    : c.Else is null ? new JinjaUndefined("conditional without else") : Eval(c.Else, scope);
            default:
                throw new JinjaRuntimeError($"cannot evaluate {e.GetType().Name}");
        }
    }

    private static string Describe(Expr e) => e switch
    {
        NameExpr n => $"'{n.Name}'",
        AttributeExpr a => Describe(a.Target).Trim('\'') is var t ? $"'{t}.{a.Name}'" : "",
        IndexExpr { Index: LiteralExpr l } i => $"'{Describe(i.Target).Trim('\'')}[{JinjaValues.Repr(l.Value)}]'",
        _ => "value",
    };

    /// <summary><c>x.name</c>: a mapping's key (its methods first, as Python's getattr finds them first), or a method.</summary>
    public static object? GetAttribute(object? target, string attr, string what)
    {
        if (target is JinjaUndefined u) throw new JinjaRuntimeError($"'{u.Hint}' is undefined, so it has no attribute '{attr}'");
        if (target is JinjaNamespace ns)
            return ns.Values.TryGetValue(attr, out var nv) ? nv : new JinjaUndefined($"{what.Trim('\'')}.{attr}");
        if (JinjaMethods.Bind(target, attr) is { } method) return method;
        if (target is Dictionary<string, object?> d && d.TryGetValue(attr, out var v)) return v;
        return new JinjaUndefined($"{what.Trim('\'')}.{attr}");
    }

    /// <summary><c>x[key]</c>: list or string index (negative from the end), mapping key, then methods.</summary>
    public static object? GetItem(object? target, object? key, string what)
    {
        switch (target)
        {
            case JinjaUndefined u:
                throw new JinjaRuntimeError($"'{u.Hint}' is undefined, so it cannot be indexed with {JinjaValues.Repr(key)}");
            case Dictionary<string, object?> d when key is string k:
                return d.TryGetValue(k, out var v) ? v : (object?)JinjaMethods.Bind(target, k) ?? new JinjaUndefined($"{what.Trim('\'')}[{JinjaValues.Repr(key)}]");
            case List<object?> l when key is long or bool:
            {
                var i = (long)JinjaValues.ToDouble(key);
                if (i < 0) i += l.Count;
                return i >= 0 && i < l.Count ? l[(int)i] : new JinjaUndefined($"{what.Trim('\'')}[{key}]");
            }
            case string s when key is long or bool:
            {
                var chars = JinjaValues.CodePoints(s);
                var i = (long)JinjaValues.ToDouble(key);
                if (i < 0) i += chars.Count;
                return i >= 0 && i < chars.Count ? chars[(int)i] : new JinjaUndefined($"{what.Trim('\'')}[{key}]");
            }
            case JinjaNamespace ns when key is string k:
                return ns.Values.TryGetValue(k, out var nv) ? nv : new JinjaUndefined($"{what.Trim('\'')}[{JinjaValues.Repr(key)}]");
        }
        if (key is string name && JinjaMethods.Bind(target, name) is { } m) return m;
        return new JinjaUndefined($"{what.Trim('\'')}[{JinjaValues.Repr(key)}]");
    }

    private object? Slice(object? target, SliceExpr s, Scope scope)
    {
        long? Bound(Expr? e)
        {
            if (e is null) return null;
            var v = Eval(e, scope);
            return v switch { null => null, long l => l, _ => throw new JinjaRuntimeError($"slice bounds must be integers, got {JinjaValues.TypeName(v)}") };
        }
        var (start, stop, step) = (Bound(s.Start), Bound(s.Stop), Bound(s.Step) ?? 1);
        if (step == 0) throw new JinjaRuntimeError("slice step cannot be zero");
        var items = target switch
        {
            List<object?> l => l,
            string str => JinjaValues.CodePoints(str),
            _ => throw new JinjaRuntimeError($"cannot slice {JinjaValues.TypeName(target)}"),
        };
        var picked = PySlice(items.Count, start, stop, step).Select(i => items[i]).ToList();
        return target is string ? string.Concat(picked.Cast<string>()) : picked;
    }

    /// <summary>The indices Python's <c>seq[start:stop:step]</c> selects.</summary>
    public static IEnumerable<int> PySlice(int n, long? start, long? stop, long step)
    {
        long Clamp(long? v, long dflt, long lo, long hi)
        {
            if (v is null) return dflt;
            var x = v.Value < 0 ? v.Value + n : v.Value;
            return Math.Clamp(x, lo, hi);
        }
        if (step > 0)
        {
            for (var i = Clamp(start, 0, 0, n); i < Clamp(stop, n, 0, n); i += step) yield return (int)i;
        }
        else
        {
            for (var i = Clamp(start, n - 1, -1, n - 1); i > Clamp(stop, -1, -1, n - 1); i += step) yield return (int)i;
        }
    }

    /// <summary>What a for loop or filter walks: list items, mapping keys, string characters; undefined is empty.</summary>
    public static List<object?> Iterate(object? v, string construct) => v switch
    {
        List<object?> l => l,
        Dictionary<string, object?> d => d.Keys.Cast<object?>().ToList(),
        string s => JinjaValues.CodePoints(s),
        JinjaUndefined => [],
        _ => throw new JinjaRuntimeError($"{construct}: {JinjaValues.TypeName(v)} is not iterable"),
    };
}

/// <summary>A variable scope; lookups fall through to the enclosing one, assignments stay local.</summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, object?> vars = new(StringComparer.Ordinal);
    private readonly Scope? outer = parent;

    public object? Get(string name)
    {
        for (var s = this; s is not null; s = s.outer)
            if (s.vars.TryGetValue(name, out var v)) return v;
        return new JinjaUndefined(name);
    }

    public void Set(string name, object? value) => vars[name] = value;
}
