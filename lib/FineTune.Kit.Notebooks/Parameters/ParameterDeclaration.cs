using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace FineTune.Kit.Notebooks.Parameters;

/// <summary>
/// A variable declared in a notebook's `parameters` cell, with its C# type: the declared one (`int steps = 10;`) or,
/// for `var`, the type of its literal initializer (`var lr = 0.001;` is a double).
/// </summary>
/// <param name="Name">The variable name.</param>
/// <param name="Type">The C# type as written (keyword form for the built-in types), e.g. `int`, `string?`.</param>
public sealed record ParameterDeclaration(string Name, string Type)
{
    /// <summary>Finds the top-level variable declarations of a C# cell.</summary>
    public static IReadOnlyList<ParameterDeclaration> Parse(string code)
    {
        var options = CSharpParseOptions.Default.WithKind(SourceCodeKind.Script).WithLanguageVersion(LanguageVersion.Latest);
        var root = CSharpSyntaxTree.ParseText(code, options).GetCompilationUnitRoot();
        var declarations = new List<ParameterDeclaration>();
        foreach (var member in root.Members)
        {
            var declaration = member switch
            {
                FieldDeclarationSyntax field => field.Declaration,
                GlobalStatementSyntax { Statement: LocalDeclarationStatementSyntax local } => local.Declaration,
                _ => null,
            };
            if (declaration is null) continue;
            foreach (var variable in declaration.Variables)
            {
                var type = declaration.Type.IsVar ? InferFromLiteral(variable.Initializer?.Value) : declaration.Type.ToString();
                declarations.Add(new ParameterDeclaration(variable.Identifier.Text, type ?? "var"));
            }
        }
        return declarations;
    }

    private static string? InferFromLiteral(ExpressionSyntax? value) => value switch
    {
        PrefixUnaryExpressionSyntax { OperatorToken.RawKind: (int)SyntaxKind.MinusToken } negative => InferFromLiteral(negative.Operand),
        LiteralExpressionSyntax literal => literal.Token.Value switch
        {
            int => "int", long => "long", uint => "uint", ulong => "ulong", double => "double", float => "float",
            decimal => "decimal", bool => "bool", string => "string", char => "char",
            _ => null,
        },
        InterpolatedStringExpressionSyntax => "string",
        _ => null,
    };
}
