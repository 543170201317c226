using System.Text;
using FineTune.Kit.Notebooks.Model;

namespace FineTune.Kit.Notebooks.Parameters;

/// <summary>
/// Papermill-style parameters: values given on the command line override the variables of the cell tagged
/// `parameters` through a new cell right after it, tagged `injected-parameters`, that declares them again with their
/// declared types. The parameters cell keeps its defaults, so the executed notebook shows both.
/// </summary>
public static class ParameterInjector
{
    /// <summary>Tag of the cell that holds a notebook's default parameter values.</summary>
    public const string ParametersTag = "parameters";

    /// <summary>Tag of the cell the runner adds.</summary>
    public const string InjectedTag = "injected-parameters";

    /// <summary>
    /// Inserts the injected-parameters cell (replacing one from an earlier run). Every name must be declared in the
    /// parameters cell; an unknown name, a missing parameters cell or a value of the wrong type is an error.
    /// </summary>
    public static void Inject(Notebook notebook, IReadOnlyList<KeyValuePair<string, string>> values)
    {
        if (values.Count == 0) return;
        var where = notebook.Path ?? "notebook";
        var parametersCell = notebook.Cells.FirstOrDefault(c => c.IsCode && c.Tags.Contains(ParametersTag))
            ?? throw new NotebookException($"{where}: no cell is tagged '{ParametersTag}', so -p has nothing to override");
        if (!Kernels.IsCSharp(parametersCell.KernelName ?? notebook.DefaultKernel))
            throw new NotebookException($"{where}: the '{ParametersTag}' cell is not a C# cell");

        var declared = ParameterDeclaration.Parse(parametersCell.Source).ToDictionary(d => d.Name, StringComparer.Ordinal);
        var code = new StringBuilder("// Parameters injected by ftk notebook run\n");
        foreach (var (name, value) in values)
        {
            if (!declared.TryGetValue(name, out var declaration))
                throw new NotebookException(
                    $"{where}: parameter '{name}' is not declared in the '{ParametersTag}' cell (declared: " +
                    (declared.Count == 0 ? "none" : string.Join(", ", declared.Keys)) + ")");
            if (declaration.Type == "var")
                throw new NotebookException($"{where}: parameter '{name}' is declared with var and a non-literal value; give it a type");
            code.Append(declaration.Type).Append(' ').Append(name).Append(" = ")
                .Append(ParameterLiteral.For(declaration.Type, value, name)).Append(";\n");
        }

        foreach (var old in notebook.Cells.Where(c => c.Tags.Contains(InjectedTag)).ToList()) notebook.RemoveCell(old);
        int index = notebook.Cells.ToList().IndexOf(parametersCell) + 1;
        notebook.InsertCodeCell(index, code.ToString(), Kernels.CSharp, InjectedTag);
    }
}
