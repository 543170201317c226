using FineTune.Kit.Cli;
using FineTune.Kit.Notebooks.Model;

namespace FineTune.Kit.Tests.Notebooks;

public class NotebookCommandTests
{
    private static (int Exit, string Out, string Err) Ftk(params string[] args)
    {
        var (stdout, stderr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o);
        Console.SetError(e);
        try
        {
            return (Program.Run(args), o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
        }
    }

    [Fact]
    public void Run_writes_executed_notebooks_and_html_and_fails_on_errors()
    {
        using var folder = new TempFolder();
        Notebook.Create()
            .Markdown("# Report")
            .Code("int steps = 3;", tags: "parameters")
            .Code("Console.WriteLine($\"steps={steps}\");")
            .Save(folder.File("good.ipynb"));
        Notebook.Create().Code("throw new Exception(\"bad cell\");").Code("1").Save(folder.File("bad.ipynb"));
        var outDir = Path.Combine(folder.Path, "out");

        var (exit, stdout, stderr) = Ftk("notebook", "run", folder.File("good.ipynb"), "--out", outDir, "-p", "steps=7", "--html", "--timeout", "120");

        Assert.True(exit == 0, stdout + stderr);
        var executed = Notebook.Load(Path.Combine(outDir, "good.ipynb"));
        Assert.Equal("steps=7\n", executed.Cells[3].OutputText("stdout"));
        Assert.Contains("steps=7", File.ReadAllText(Path.Combine(outDir, "good.html")));
        Assert.Equal("", Notebook.Load(folder.File("good.ipynb")).Cells[2].OutputText("stdout")); // original untouched

        var (failed, failOut, failErr) = Ftk("notebook", "run", folder.File("bad.ipynb"), "--inplace");
        Assert.Equal(1, failed);
        Assert.Contains("cell 1: Exception: bad cell", failOut);
        Assert.Contains("1 of 1 notebook(s) had errors", failErr);
        Assert.Equal("Exception", (string)Notebook.Load(folder.File("bad.ipynb")).Cells[0].Outputs.Single()["ename"]!);

        var (badParameter, _, parameterErr) = Ftk("notebook", "run", folder.File("good.ipynb"), "-p", "steps=many");
        Assert.Equal(1, badParameter);
        Assert.Contains("ftk notebook run: ", parameterErr);
        Assert.Contains("'many' is not a valid int", parameterErr);
    }
}
