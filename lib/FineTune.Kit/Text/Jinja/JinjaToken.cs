namespace FineTune.Kit.Text.Jinja;

/// <summary>Kinds of lexer output: literal text between tags, tag delimiters, and the pieces of expressions.</summary>
internal enum JinjaTokenKind
{
    Text,
    OpenStatement,   // {%
    CloseStatement,  // %}
    OpenExpression,  // {{
    CloseExpression, // }}
    Name,
    String,
    Integer,
    Float,
    Operator,        // punctuation and operators: + - * / // % ** ~ | . , : ( ) [ ] { } = == != < <= > >=
    End,
}

/// <summary>One lexer token and the 1-based template line it starts on.</summary>
internal readonly record struct JinjaToken(JinjaTokenKind Kind, string Value, int Line)
{
    public bool Is(JinjaTokenKind kind, string value) => Kind == kind && Value == value;
    public bool IsName(string value) => Is(JinjaTokenKind.Name, value);
    public bool IsOp(string value) => Is(JinjaTokenKind.Operator, value);

    public override string ToString() => Kind switch
    {
        JinjaTokenKind.End => "end of template",
        JinjaTokenKind.Text => "text",
        JinjaTokenKind.String => $"string '{Value}'",
        _ => $"'{Value}'",
    };
}
