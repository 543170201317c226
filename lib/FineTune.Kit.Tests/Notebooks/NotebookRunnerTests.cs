using FineTune.Kit.Notebooks.Execution;
using FineTune.Kit.Notebooks.Model;

namespace FineTune.Kit.Tests.Notebooks;

public class NotebookRunnerTests
{
    private static (NotebookRun Run, string Log) RunSaved(Notebook notebook, TempFolder folder, Func<NotebookRunner, NotebookRunner>? configure = null)
    {
        var path = folder.File("test.ipynb");
        notebook.Save(path);
        var loaded = Notebook.Load(path);
        var log = new StringWriter();
        var runner = new NotebookRunner().LogTo(log);
        var run = (configure?.Invoke(runner) ?? runner).Run(loaded);
        return (run, log.ToString());
    }

    [Fact]
    public void Cells_share_state_and_record_streams_displays_results_and_counts()
    {
        using var folder = new TempFolder();
        var before = Directory.GetCurrentDirectory();
        var notebook = Notebook.Create()
            .Markdown("# Title")
            .Code("var x = 20;\nConsole.WriteLine(\"hello\");\nConsole.Error.WriteLine(\"careful\");")
            .Code("display(new List<int> { 1, 2, 3 });\nx + 22")
            .Code("File.WriteAllText(\"written.txt\", x.ToString());\nDirectory.GetCurrentDirectory()");

        var (run, log) = RunSaved(notebook, folder);

        Assert.True(run.Succeeded, log);
        var cells = run.Notebook.Cells;
        Assert.Null(cells[0].ExecutionCount);
        Assert.Equal([1, 2, 3], cells.Skip(1).Select(c => c.ExecutionCount ?? 0));
        Assert.Equal("hello\n", cells[1].OutputText("stdout"));
        Assert.Equal("careful\n", cells[1].OutputText("stderr"));
        Assert.Equal(["display_data", "execute_result"], cells[2].Outputs.Select(o => (string)o["output_type"]!));
        Assert.Equal("[1, 2, 3]", cells[2].Outputs[0]["data"]!["text/plain"]!.AsArray().Single()!.GetValue<string>());
        Assert.Equal(2, (int)cells[2].Outputs[1]["execution_count"]!);
        Assert.Equal("42", cells[2].OutputText("text/plain")[^2..]);
        Assert.Equal("20", File.ReadAllText(folder.File("written.txt")));
        Assert.Equal(Path.GetFullPath(folder.Path), cells[3].OutputText("text/plain"));
        Assert.Equal(before, Directory.GetCurrentDirectory());
        Assert.Contains("[3/3] cell 4 ok", log);
    }

    [Fact]
    public void Reference_to_the_kit_dll_by_path_uses_the_loaded_assembly()
    {
        using var folder = new TempFolder();
        var kitDll = typeof(KitException).Assembly.Location;
        var notebook = Notebook.Create()
            .Code($"#r \"{kitDll}\"\n#r \"nuget: TorchSharp-cpu, 0.1.0\"\nvar e = new FineTune.Kit.DataFormatException(\"x\");")
            .Code("e.GetType().Assembly == typeof(FineTune.Kit.Notebooks.NotebookGlobals).Assembly.GetReferencedAssemblies()" +
                  ".Select(System.Reflection.Assembly.Load).Single(a => a.GetName().Name == \"FineTune.Kit\")")
            .Code("AppDomain.CurrentDomain.GetAssemblies().Count(a => a.GetName().Name == \"FineTune.Kit\")");

        var (run, log) = RunSaved(notebook, folder);

        Assert.True(run.Succeeded, log);
        Assert.Equal("True", run.Notebook.Cells[1].OutputText("text/plain"));
        Assert.Equal("1", run.Notebook.Cells[2].OutputText("text/plain"));
        Assert.Contains("uses the FineTune.Kit already loaded", log);
        Assert.Contains("nuget TorchSharp-cpu 0.1.0 requested; using the kit's 0.107.0", log);
    }
}
