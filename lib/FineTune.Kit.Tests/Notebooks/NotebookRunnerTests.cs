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
            .Code("var shown = display(\"step 0\");\nshown.Update(new List<int> { 1, 2, 3 });\nx + 22")
            .Code("File.WriteAllText(\"written.txt\", x.ToString());\nDirectory.GetCurrentDirectory()")
            .Code("display(\"last\")");

        var (run, log) = RunSaved(notebook, folder);

        Assert.True(run.Succeeded, log);
        var cells = run.Notebook.Cells;
        Assert.Null(cells[0].ExecutionCount);
        Assert.Equal([1, 2, 3, 4], cells.Skip(1).Select(c => c.ExecutionCount ?? 0));
        Assert.Equal("hello\n", cells[1].OutputText("stdout"));
        Assert.Equal("careful\n", cells[1].OutputText("stderr"));
        Assert.Equal(["display_data", "execute_result"], cells[2].Outputs.Select(o => (string)o["output_type"]!));
        Assert.Equal("[1, 2, 3]", cells[2].Outputs[0]["data"]!["text/plain"]!.AsArray().Single()!.GetValue<string>());
        Assert.Equal(2, (int)cells[2].Outputs[1]["execution_count"]!);
        Assert.Equal("42", cells[2].OutputText("text/plain")[^2..]);
        Assert.Equal("20", File.ReadAllText(folder.File("written.txt")));
        Assert.Equal(Path.GetFullPath(folder.Path), cells[3].OutputText("text/plain"));
        Assert.Equal(before, Directory.GetCurrentDirectory());
        Assert.Equal("display_data", (string)cells[4].Outputs.Single()["output_type"]!); // no result for the handle
        Assert.Contains("[3/4] cell 4 ok", log);
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

    [Fact]
    public void First_error_stops_the_run_unless_told_to_continue()
    {
        using var folder = new TempFolder();
        var notebook = Notebook.Create()
            .Code("var before = 1;\nthrow new InvalidOperationException(\"boom\");")
            .Code("undefinedName + 1")
            .Code("before + 1");

        var (stopped, stopLog) = RunSaved(notebook, folder);
        Assert.False(stopped.Succeeded);
        Assert.Equal([CellStatus.Failed, CellStatus.NotRun, CellStatus.NotRun], stopped.Cells.Select(c => c.Status));
        var error = stopped.Notebook.Cells[0].Outputs.Single();
        Assert.Equal("error", (string)error["output_type"]!);
        Assert.Equal("InvalidOperationException", (string)error["ename"]!);
        Assert.Equal("boom", (string)error["evalue"]!);
        var traceback = string.Join("\n", error["traceback"]!.AsArray().Select(l => (string)l!));
        Assert.Contains(" in cell 1:line 2", traceback);
        Assert.DoesNotContain(folder.Path, traceback);
        Assert.Null(stopped.Notebook.Cells[1].ExecutionCount);
        Assert.Contains("cell 1: InvalidOperationException: boom", stopLog);

        var (continued, _) = RunSaved(notebook, folder, r => r.ContinueOnError());
        Assert.Equal([CellStatus.Failed, CellStatus.Failed, CellStatus.Succeeded], continued.Cells.Select(c => c.Status));
        var compileError = continued.Notebook.Cells[1].Outputs.Single();
        Assert.Equal("CompilationError", (string)compileError["ename"]!);
        Assert.Contains("CS0103", (string)compileError["evalue"]!);
        Assert.StartsWith("cell 2(1,1)", (string)compileError["evalue"]!);
        // variables assigned before the exception survive it
        Assert.Equal("2", continued.Notebook.Cells[2].OutputText("text/plain"));
    }

    [Fact]
    public void A_cell_past_its_time_limit_fails_with_a_timeout_error()
    {
        using var folder = new TempFolder();
        var notebook = Notebook.Create()
            .Code("System.Threading.Thread.Sleep(30_000);")
            .Code("1");

        var (run, log) = RunSaved(notebook, folder, r => r.WithCellTimeout(TimeSpan.FromSeconds(1)));

        Assert.Equal([CellStatus.TimedOut, CellStatus.NotRun], run.Cells.Select(c => c.Status));
        var error = run.Notebook.Cells[0].Outputs.Single();
        Assert.Equal("TimeoutException", (string)error["ename"]!);
        Assert.Contains("did not finish within 1 s", (string)error["evalue"]!);
        Assert.Contains("cell 1 did not finish", log);
    }

    [Fact]
    public void A_package_outside_the_kit_is_restored_from_the_users_sources_and_usable_in_later_cells()
    {
        using var folder = new TempFolder();
        // OpenAI and Microsoft.Extensions.AI.OpenAI are not part of the kit: `ftk notebook run` (its own process, which
        // has neither loaded) restores them as the Polyglot engine would, with their dependencies, and later cells
        // keep the references. The second package was built against OpenAI 2.14 and must run on 2.15.
        Notebook.Create()
            .Code("#r \"nuget: Plotly.NET, 6.0.0\"\n#r \"nuget: OpenAI, 2.15.0\"\n#r \"nuget: Microsoft.Extensions.AI.OpenAI, 11.0.0\"\n" +
                  "var credential = new System.ClientModel.ApiKeyCredential(\"k\");")
            .Code("var chat = new OpenAI.Chat.ChatClient(\"m\", credential, new OpenAI.OpenAIClientOptions { Endpoint = new Uri(\"http://127.0.0.1:9/v1\") });\n" +
                  "Microsoft.Extensions.AI.IChatClient client = Microsoft.Extensions.AI.OpenAIClientExtensions.AsIChatClient(chat);\n" +
                  "$\"{client.GetType().Name} {chat.GetType().Assembly.GetName().Version!.ToString(2)}\"")
            .Save(folder.File("packages.ipynb"));

        var (code, log) = Processes.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "ftk.dll"), "notebook", "run", "packages.ipynb", "--out", "out"],
            folder.Path, TimeSpan.FromMinutes(5));

        Assert.True(code == 0, log);
        Assert.Contains("cell 1, line 2: nuget OpenAI 2.15.0 restored", log);
        var executed = Notebook.Load(Path.Combine(folder.Path, "out", "packages.ipynb"));
        Assert.Equal("OpenAIChatClient 2.15", executed.Cells[1].OutputText("text/plain"));
    }

    [Fact]
    public void A_package_that_cannot_be_restored_is_an_error_naming_it_and_the_cell()
    {
        using var folder = new TempFolder();
        var notebook = Notebook.Create()
            .Code("1")
            .Code("#r \"nuget: Plotly.NET, 6.0.0\"\n#r \"nuget: FineTune.Kit.NoSuchPackage, 1.0.0\"\nvar x = 2;");

        var (run, _) = RunSaved(notebook, folder);

        Assert.Equal(CellStatus.Failed, run.Cells[1].Status);
        var error = run.Notebook.Cells[1].Outputs.Single();
        Assert.Equal("NotebookException", (string)error["ename"]!);
        Assert.Contains("cell 2, line 2: could not restore FineTune.Kit.NoSuchPackage 1.0.0", (string)error["evalue"]!);
        Assert.Contains("NU1101", (string)error["evalue"]!);
    }

    [Fact]
    public void Cells_of_other_kernels_are_skipped_and_keep_their_outputs()
    {
        using var folder = new TempFolder();
        var notebook = Notebook.Create()
            .Code("Get-ChildItem", kernel: "pwsh")
            .Code("#!pwsh\nWrite-Host 'hi'")
            .Code("#!csharp\nvar fromCSharp = 3;\n#!fsharp\nlet x = 1\n#!c#\nfromCSharp * 2")
            .Code("console.log(1)", kernel: "javascript");
        var path = folder.File("kernels.ipynb");
        notebook.Save(path);
        // a stale output in a pwsh cell is the front end's business; the runner leaves it alone
        var json = File.ReadAllText(path).Replace("\"outputs\": []", "\"outputs\": [{\"output_type\": \"stream\", \"name\": \"stdout\", \"text\": [\"old\"]}]");
        File.WriteAllText(path, json);
        var log = new StringWriter();

        var run = new NotebookRunner().LogTo(log).Run(Notebook.Load(path));

        Assert.True(run.Succeeded, log.ToString());
        Assert.Equal([CellStatus.Skipped, CellStatus.Skipped, CellStatus.Succeeded, CellStatus.Skipped], run.Cells.Select(c => c.Status));
        Assert.Equal("old", run.Notebook.Cells[0].OutputText("stdout"));
        Assert.Null(run.Notebook.Cells[0].ExecutionCount);
        Assert.Equal("6", run.Notebook.Cells[2].OutputText("text/plain"));
        Assert.Equal(1, run.Notebook.Cells[2].ExecutionCount);
        Assert.Contains("cell 1: pwsh code skipped", log.ToString());
        Assert.Contains("cell 2: pwsh code skipped", log.ToString());
        Assert.Contains("cell 3: fsharp code skipped", log.ToString());
        Assert.Contains("cell 4: javascript code skipped", log.ToString());
    }

    [Fact]
    public void Parameters_are_injected_after_the_parameters_cell_with_their_declared_types()
    {
        using var folder = new TempFolder();
        var notebook = Notebook.Create()
            .Code("int steps = 10;\nvar name = \"base\";\ndouble lr = 0.1;\nbool verbose = false;", tags: "parameters")
            .Code("$\"{steps * 2}|{name}|{lr * 2}|{verbose}|{steps.GetType().Name}|{lr.GetType().Name}\"");

        var (run, log) = RunSaved(notebook, folder, r => r
            .WithParameter("steps", "21").WithParameter("name", "a \"quoted\" name").WithParameter("lr", "0.25").WithParameter("verbose", "true"));

        Assert.True(run.Succeeded, log);
        var cells = run.Notebook.Cells;
        Assert.Equal(3, cells.Count);
        Assert.Equal(["injected-parameters"], cells[1].Tags);
        Assert.Contains("int steps = 21;", cells[1].Source);
        Assert.Contains("string name = \"a \\\"quoted\\\" name\";", cells[1].Source);
        Assert.Equal("42|a \"quoted\" name|0.5|True|Int32|Double", cells[2].OutputText("text/plain"));
        Assert.Equal([1, 2, 3], cells.Select(c => c.ExecutionCount ?? 0));

        // a second run replaces the injected cell instead of adding another
        var again = new NotebookRunner().LogTo(new StringWriter()).WithParameter("steps", "5").Run(run.Notebook);
        Assert.Equal(3, again.Notebook.Cells.Count);
        Assert.StartsWith("10|base|", again.Notebook.Cells[2].OutputText("text/plain"));
    }
}
