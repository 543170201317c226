using System.Diagnostics;
using System.Globalization;
using FineTune.Kit.Plots;
using FineTune.Kit.Notebooks.Model;
using FineTune.Kit.Notebooks.Parameters;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;
using Microsoft.CodeAnalysis.Scripting.Hosting;

namespace FineTune.Kit.Notebooks.Execution;

/// <summary>
/// Runs the C# cells of a Polyglot notebook in order, headless, each cell continuing the script state of the one
/// before, and stores the outputs in the notebook as Jupyter front ends do.
/// </summary>
/// <example>
/// <code>
/// var notebook = Notebook.Load("notebooks/train.ipynb");
/// var run = new NotebookRunner().WithParameter("steps", "200").WithCellTimeout(TimeSpan.FromMinutes(30)).Run(notebook);
/// notebook.Save("out/train.ipynb");
/// </code>
/// </example>
public sealed class NotebookRunner
{
    private readonly List<KeyValuePair<string, string>> _parameters = [];
    private TimeSpan _cellTimeout = TimeSpan.FromSeconds(600);
    private bool _continueOnError;
    private TextWriter? _log;

    /// <summary>Overrides a variable of the notebook's `parameters` cell (papermill style).</summary>
    public NotebookRunner WithParameter(string name, string value)
    {
        _parameters.RemoveAll(p => p.Key == name);
        _parameters.Add(new(name, value));
        return this;
    }

    /// <summary>How long one cell may run before it fails (600 s by default).</summary>
    public NotebookRunner WithCellTimeout(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero) throw new ArgumentException($"cell timeout must be positive, got {timeout}");
        _cellTimeout = timeout;
        return this;
    }

    /// <summary>Keeps running the cells after one fails (by default the run stops at the first error).</summary>
    public NotebookRunner ContinueOnError(bool continueOnError = true)
    {
        _continueOnError = continueOnError;
        return this;
    }

    /// <summary>Where progress goes (the console by default).</summary>
    public NotebookRunner LogTo(TextWriter log)
    {
        _log = log;
        return this;
    }

    /// <summary>
    /// Runs the notebook in its own folder (the working directory is restored afterwards) and fills in its outputs.
    /// Bad parameters throw before any cell runs; cell errors are recorded in the notebook and in the result.
    /// </summary>
    public NotebookRun Run(Notebook notebook)
    {
        var total = Stopwatch.StartNew();
        var log = _log ?? Console.Out;
        var name = notebook.Path is null ? "notebook" : Path.GetFileName(notebook.Path);
        var directory = notebook.Path is null ? Directory.GetCurrentDirectory() : Path.GetDirectoryName(notebook.Path)!;
        ParameterInjector.Inject(notebook, _parameters);

        var plan = notebook.Cells
            .Select((cell, i) => (Cell: cell, Number: i + 1,
                Segments: cell.IsCode ? KernelSegment.Split(cell.Source, cell.KernelName ?? notebook.DefaultKernel) : []))
            .Where(p => p.Cell.IsCode)
            .ToList();
        var toRun = plan.Count(p => p.Segments.Any(s => s.Kernel == Kernels.CSharp));
        foreach (var p in plan.Where(p => p.Segments.Any(s => s.Kernel == Kernels.CSharp))) p.Cell.ClearOutputs();
        log.WriteLine($"{name}: {toRun} C# cell(s) of {notebook.Cells.Count}");

        var session = new Session(directory, name, _cellTimeout);
        var results = new List<CellRun>();
        var (stdout, stderr, workingDirectory) = (Console.Out, Console.Error, Directory.GetCurrentDirectory());
        Console.SetOut(new ConsoleRouter("stdout", stdout));
        Console.SetError(new ConsoleRouter("stderr", stderr));
        Directory.SetCurrentDirectory(directory);
        try
        {
            int position = 0;
            bool stopped = false;
            foreach (var (cell, number, segments) in plan)
            {
                foreach (var other in segments.Where(s => s.Kernel != Kernels.CSharp))
                    log.WriteLine($"  cell {number}: {other.Kernel} code skipped (the headless runner executes C# only)");
                if (!segments.Any(s => s.Kernel == Kernels.CSharp))
                {
                    results.Add(new CellRun(number, CellStatus.Skipped, TimeSpan.Zero)); // other kernels, or blank
                    continue;
                }
                position++;
                if (stopped)
                {
                    results.Add(new CellRun(number, CellStatus.NotRun, TimeSpan.Zero));
                    continue;
                }
                log.Write($"  [{position}/{toRun}] ");
                var run = RunCSharpCell(session, cell, number, segments, directory, log);
                results.Add(run);
                stopped = run.Status != CellStatus.Succeeded && !_continueOnError;
            }
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
            Directory.SetCurrentDirectory(workingDirectory);
        }
        var result = new NotebookRun(notebook, results, total.Elapsed);
        log.WriteLine($"{name}: {(result.Succeeded ? "done" : $"{result.Errors.Count()} error(s)")} in " +
                      $"{total.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s");
        return result;
    }

    // rewrites the cell's directives, runs it, and reports it on one progress line (notes and errors below it)
    private static CellRun RunCSharpCell(Session session, NotebookCell cell, int number, IReadOnlyList<KernelSegment> segments,
                                         string directory, TextWriter log)
    {
        log.Write($"cell {number} ");
        log.Flush();
        var notes = new List<string>();
        string? code = null;
        NotebookException? directiveError = null;
        IReadOnlyList<string> references = [];
        try
        {
            var packages = new List<PackageRequest>();
            code = CellDirectives.Rewrite(CSharpLines(cell.Source, segments), directory, $"cell {number}", notes, packages);
            references = PackageRestore.Resolve(packages, directory, notes);
        }
        catch (NotebookException e)
        {
            directiveError = e;
        }
        var run = session.Execute(cell, number, code, directiveError, references);
        var seconds = run.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
        log.WriteLine(run.Status switch
        {
            CellStatus.Succeeded => $"ok {seconds} s",
            CellStatus.TimedOut => $"TIMED OUT {seconds} s",
            _ => $"FAILED {seconds} s",
        });
        foreach (var note in notes) log.WriteLine($"    {note}");
        if (run.Error is not null) log.WriteLine($"  cell {number}: {run.Error}");
        return run;
    }

    // the cell's C# lines in place, lines of other kernels (and the #! lines) blank, so line numbers stay the cell's
    private static string CSharpLines(string source, IReadOnlyList<KernelSegment> segments)
    {
        var lines = source.Replace("\r\n", "\n").Split('\n');
        var code = new string[lines.Length];
        Array.Fill(code, "");
        foreach (var segment in segments.Where(s => s.Kernel == Kernels.CSharp))
            for (int i = 0; i < segment.Lines.Count; i++) code[segment.FirstLine + i] = segment.Lines[i];
        return string.Join('\n', code);
    }

    /// <summary>The script state of one notebook run: each cell continues from the last one that ran.</summary>
    private sealed class Session(string directory, string notebookName, TimeSpan timeout)
    {
        private readonly DisplayFormatter _formatter = new();
        private ScriptOptions _options = ScriptEnvironment.Shared.Options(directory);
        private readonly InteractiveAssemblyLoader _loader = CreateLoader();
        private readonly NotebookGlobals _globals = new();
        private ScriptState<object>? _state;
        private int _executionCount;

        /// <summary>Runs one cell's rewritten code, or records why its directives could not be satisfied.</summary>
        public CellRun Execute(NotebookCell cell, int number, string? code, NotebookException? directiveError,
                               IReadOnlyList<string> references)
        {
            // restored packages stay referenced by every later cell, as in the Polyglot engine
            foreach (var assembly in PackageRestore.Load(references))
            {
                _options = _options.AddReferences(MetadataReference.CreateFromFile(assembly.Location));
                _loader.RegisterDependency(assembly);   // cells bind to this copy, as to the kit's own assemblies
            }
            var clock = Stopwatch.StartNew();
            var collector = new CellOutputCollector(_formatter);
            cell.ExecutionCount = ++_executionCount;
            CellRun run;
            if (code is null || directiveError is not null)
            {
                var message = directiveError?.Message ?? $"cell {number}: nothing to run";
                collector.Error(nameof(NotebookException), message, [message]);
                run = new CellRun(number, CellStatus.Failed, clock.Elapsed, message);
            }
            else
            {
                run = RunWithTimeout(code, number, collector, clock);
            }
            foreach (var output in collector.Seal()) cell.AddOutput(output);
            return run;
        }

        private CellRun RunWithTimeout(string code, int number, CellOutputCollector collector, Stopwatch clock)
        {
            var done = new TaskCompletionSource<CellRun>(TaskCreationOptions.RunContinuationsAsynchronously);
            // a thread of its own: a cell that never returns can be abandoned, and a deep compile has stack to spare
            var thread = new Thread(() =>
            {
                NotebookContext.Cell = collector;
                try
                {
                    done.SetResult(Submit(code, number, collector, clock));
                }
                catch (Exception e)
                {
                    done.SetException(e);
                }
            }, maxStackSize: 16 * 1024 * 1024) { IsBackground = true, Name = $"{notebookName} cell {number}" };
            thread.Start();
            if (done.Task.Wait(timeout)) return done.Task.Result;
            var message = $"cell {number} did not finish within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s " +
                          "and was abandoned; raise the limit with --timeout";
            collector.Error("TimeoutException", message, [message]);
            return new CellRun(number, CellStatus.TimedOut, clock.Elapsed, message);
        }

        private CellRun Submit(string code, int number, CellOutputCollector collector, Stopwatch clock)
        {
            var options = _options.WithFilePath($"cell {number}");
            var script = _state is null
                ? CSharpScript.Create(code, options, typeof(NotebookGlobals), _loader)
                : _state.Script.ContinueWith(code, options);
            var errors = script.Compile().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            if (errors.Count > 0)
            {
                var lines = errors.Select(d => d.ToString()).ToList();
                collector.Error("CompilationError", lines[0], lines);
                return new CellRun(number, CellStatus.Failed, clock.Elapsed, string.Join("\n  ", lines));
            }

            var state = (_state is null
                ? script.RunAsync(_globals, catchException: _ => true)
                : script.RunFromAsync(_state, catchException: _ => true)).GetAwaiter().GetResult();
            _state = state; // variables assigned before an exception stay, as in Polyglot Notebooks
            if (state.Exception is { } e)
            {
                collector.Error(e.GetType().Name, e.Message, Traceback(e, directory));
                return new CellRun(number, CellStatus.Failed, clock.Elapsed, $"{e.GetType().Name}: {e.Message}");
            }
            // `display(x)` as a cell's last expression returns the display handle: x is shown already
            if (state.ReturnValue is { } value and not DisplayedValue) collector.Result(value, _executionCount);
            return new CellRun(number, CellStatus.Succeeded, clock.Elapsed);
        }

        // the exception as .NET prints it, down to the first frame of the scripting machinery; frames of cells read
        // `in cell 3:line 2`, without the machine's folder (executed notebooks are often committed)
        private static IEnumerable<string> Traceback(Exception e, string directory) =>
            e.ToString().Replace("\r\n", "\n").Split('\n')
                .TakeWhile(l => !l.Contains("Microsoft.CodeAnalysis.Scripting", StringComparison.Ordinal))
                .Where(l => !l.StartsWith("--- End of stack trace", StringComparison.Ordinal))
                .Select(l => l.Replace(Path.Combine(directory, "cell "), "cell ", StringComparison.Ordinal));

        private static InteractiveAssemblyLoader CreateLoader()
        {
            var loader = new InteractiveAssemblyLoader();
            // cells bind to the assemblies already loaded here, never to second copies (type identity must hold:
            // a chart made in a cell has to be the GenericChart the formatter knows)
            foreach (var asm in ScriptEnvironment.Shared.Assemblies) loader.RegisterDependency(asm);
            return loader;
        }
    }
}
