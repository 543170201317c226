using System.CommandLine;
using FineTune.Kit.Notebooks.Execution;
using FineTune.Kit.Notebooks.Html;
using FineTune.Kit.Notebooks.Model;

namespace FineTune.Kit.Cli.Commands;

/// <summary>`ftk notebook run`: executes Polyglot C# notebooks headless (CI, scheduled reports, parameter sweeps).</summary>
internal static class NotebookCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("path")
        {
            Description = "Notebook files (.ipynb), or folders whose notebooks run in name order",
            Arity = ArgumentArity.OneOrMore,
        };
        var outDir = new Option<string?>("--out") { Description = "Folder for the executed notebooks (and --html pages)", HelpName = "dir" }.FolderToWrite();
        var parameters = new Option<string[]>("-p", "--parameter")
        {
            Description = "name=value overriding a variable of the cell tagged 'parameters' (repeatable)",
            Arity = ArgumentArity.ZeroOrMore,
            HelpName = "name=value",
        };
        var timeout = Cli.Optional("--timeout", "Seconds one cell may run before it fails", 600.0);
        timeout.HelpName = "seconds";
        var html = new Option<bool>("--html") { Description = "Also write a standalone HTML page of each executed notebook" };
        var inplace = new Option<bool>("--inplace") { Description = "Write the executed notebook over the original" };
        var keepGoing = new Option<bool>("--continue") { Description = "Run the remaining cells after a cell fails" };

        var run = new Command("run", "Run the C# cells of notebooks in order and store their outputs")
        {
            paths, outDir, parameters, timeout, html, inplace, keepGoing,
        };
        run.Handle(parse =>
        {
            var outFolder = parse.GetValue(outDir);
            bool inPlace = parse.GetValue(inplace);
            if (outFolder is not null && inPlace) throw new ArgumentException("give either --out DIR or --inplace, not both");
            var seconds = parse.GetValue(timeout);
            if (!(seconds > 0)) throw new ArgumentException($"--timeout must be a positive number of seconds, got {seconds}");

            var runner = new NotebookRunner().WithCellTimeout(TimeSpan.FromSeconds(seconds)).ContinueOnError(parse.GetValue(keepGoing));
            foreach (var (name, value) in ParseParameters(parse.GetValue(parameters) ?? [])) runner.WithParameter(name, value);

            var notebooks = Expand(parse.GetValue(paths) ?? []);
            var clash = notebooks.GroupBy(Path.GetFileName).FirstOrDefault(g => g.Count() > 1);
            if (outFolder is not null && clash is not null)
                throw new ArgumentException($"two notebooks named {clash.Key} would both be written to {outFolder}");

            int failed = 0;
            foreach (var path in notebooks)
            {
                var notebook = Notebook.Load(path);
                var result = runner.Run(notebook);
                if (!result.Succeeded) failed++;
                // the cause of each failure goes to stderr with the notebook and cell, not only to the log on stdout
                foreach (var cell in result.Errors)
                    Console.Error.WriteLine($"{Program.CommandPath(parse)}: {Path.GetFileName(path)}: cell {cell.CellNumber} " +
                                            $"{(cell.Status == CellStatus.TimedOut ? "timed out" : "failed")}: {Program.OneLine(cell.Error ?? "no message")}");
                var target = inPlace ? path : outFolder is null ? null : Path.Combine(outFolder, Path.GetFileName(path));
                if (target is not null)
                {
                    notebook.Save(target);
                    Console.WriteLine($"  wrote {target}");
                }
                if (parse.GetValue(html))
                {
                    var page = Path.ChangeExtension(target ?? path, ".html");
                    NotebookHtml.Save(notebook, page);
                    Console.WriteLine($"  wrote {page}");
                }
            }
            if (failed > 0) Console.Error.WriteLine($"{Program.CommandPath(parse)}: {failed} of {notebooks.Count} notebook(s) had errors");
            return failed > 0 ? 1 : 0;
        });

        return new Command("notebook", "Run Polyglot Notebooks (.ipynb, C#) headless") { run };
    }

    private static IEnumerable<KeyValuePair<string, string>> ParseParameters(IEnumerable<string> items)
    {
        foreach (var item in items)
        {
            int eq = item.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"-p expects name=value, got '{item}'");
            yield return new(item[..eq].Trim(), item[(eq + 1)..]);
        }
    }

    private static List<string> Expand(IEnumerable<string> paths)
    {
        var files = new List<string>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                var found = Directory.GetFiles(path, "*.ipynb").Order(StringComparer.Ordinal).ToList();
                if (found.Count == 0) throw new FileNotFoundException($"no .ipynb notebooks in {path}");
                files.AddRange(found);
            }
            else if (File.Exists(path)) files.Add(path);
            else throw new FileNotFoundException($"notebook not found: {path}", path);
        }
        return files.Select(Path.GetFullPath).ToList();
    }
}
