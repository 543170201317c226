using FineTune.Kit.Notebooks;
using FineTune.Kit.Notebooks.Model;
using FineTune.Kit.Notebooks.Parameters;

namespace FineTune.Kit.Tests.Notebooks;

public class NotebookParameterTests
{
    [Fact]
    public void Declarations_keep_their_declared_type_and_var_takes_the_literal_type()
    {
        var declarations = ParameterDeclaration.Parse(
            "// defaults\nint steps = 10, warmup = 2;\nvar lr = 3e-4;\nvar big = 5L;\nvar neg = -1;\nvar name = \"x\";\n" +
            "string? tag = null;\nvar flag = true;\nvar f = 0.5f;\nvar m = 1.5m;\nvar path = $\"{name}.txt\";\nvar list = new List<int>();");

        Assert.Equal(
            [("steps", "int"), ("warmup", "int"), ("lr", "double"), ("big", "long"), ("neg", "int"), ("name", "string"),
             ("tag", "string?"), ("flag", "bool"), ("f", "float"), ("m", "decimal"), ("path", "string"), ("list", "var")],
            declarations.Select(d => (d.Name, d.Type)));
    }

    [Theory]
    [InlineData("int", "-42", "-42")]
    [InlineData("long", "9000000000", "9000000000L")]
    [InlineData("double", "0.1", "0.1d")]
    [InlineData("double", "1e-5", "1E-05d")]
    [InlineData("float", "0.1", "0.1f")]
    [InlineData("decimal", "2.50", "2.50m")]
    [InlineData("bool", "True", "true")]
    [InlineData("string", "a\"b\\c\nd", "\"a\\\"b\\\\c\\nd\"")]
    [InlineData("string?", "null", "null")]
    [InlineData("int?", "null", "null")]
    [InlineData("System.Int32", "7", "7")]
    [InlineData("Double", "NaN", "double.NaN")]
    [InlineData("char", "x", "'x'")]
    public void Values_become_literals_of_the_declared_type(string type, string value, string literal) =>
        Assert.Equal(literal, ParameterLiteral.For(type, value, "p"));

    [Theory]
    [InlineData("int", "1.5", "'1.5' is not a valid int")]
    [InlineData("int", "null", "'null' is not a valid int")]
    [InlineData("bool", "yes", "'yes' is not a valid bool")]
    [InlineData("byte", "300", "'300' is not a valid byte")]
    [InlineData("DateTime", "2020-01-01", "is declared as DateTime")]
    public void Values_that_do_not_fit_the_type_are_errors(string type, string value, string message)
    {
        var e = Assert.Throws<NotebookException>(() => ParameterLiteral.For(type, value, "p"));
        Assert.Contains(message, e.Message);
        Assert.Contains("'p'", e.Message);
    }

    [Fact]
    public void Unknown_names_and_missing_parameters_cells_are_errors()
    {
        var notebook = Notebook.Create().Code("int steps = 1;", tags: "parameters").Code("steps");
        var unknown = Assert.Throws<NotebookException>(() => ParameterInjector.Inject(notebook, [new("stpes", "2")]));
        Assert.Contains("parameter 'stpes' is not declared in the 'parameters' cell (declared: steps)", unknown.Message);
        Assert.Equal(2, notebook.Cells.Count); // nothing injected

        var none = Assert.Throws<NotebookException>(() => ParameterInjector.Inject(Notebook.Create().Code("1"), [new("a", "1")]));
        Assert.Contains("no cell is tagged 'parameters'", none.Message);
    }
}
