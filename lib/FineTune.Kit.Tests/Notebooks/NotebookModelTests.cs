using System.Text.Json.Nodes;
using FineTune.Kit.Notebooks;
using FineTune.Kit.Notebooks.Execution;
using FineTune.Kit.Notebooks.Html;
using FineTune.Kit.Notebooks.Model;

namespace FineTune.Kit.Tests.Notebooks;

public class NotebookModelTests
{
    private const string PolyglotNotebook = """
        {
         "cells": [
          {
           "cell_type": "markdown",
           "metadata": {},
           "source": ["# Hello\n", "text"]
          },
          {
           "cell_type": "code",
           "execution_count": 3,
           "metadata": { "dotnet_interactive": { "language": "pwsh" }, "vscode": { "languageId": "polyglot-notebook" } },
           "outputs": [],
           "source": "dir"
          },
          {
           "cell_type": "code",
           "execution_count": null,
           "metadata": { "polyglot_notebook": { "kernelName": "csharp" }, "tags": ["parameters"] },
           "outputs": [],
           "source": ["int a = 1;\n", "var b = 2;"]
          }
         ],
         "metadata": {
          "kernelspec": { "display_name": ".NET (C#)", "language": "C#", "name": ".net-csharp" },
          "language_info": { "name": "polyglot-notebook" },
          "polyglot_notebook": { "kernelInfo": { "defaultKernelName": "csharp", "items": [ { "aliases": [], "name": "csharp" } ] } },
          "custom": { "kept": true }
         },
         "nbformat": 4,
         "nbformat_minor": 2
        }
        """;

    [Fact]
    public void Reads_the_polyglot_layout_and_writes_back_what_it_does_not_know()
    {
        var notebook = Notebook.Parse(PolyglotNotebook, "hello.ipynb");

        Assert.Equal("csharp", notebook.DefaultKernel);
        Assert.Equal(["markdown", "code", "code"], notebook.Cells.Select(c => c.CellType));
        Assert.Equal("# Hello\ntext", notebook.Cells[0].Source);
        Assert.Equal("pwsh", notebook.Cells[1].KernelName);
        Assert.Equal(3, notebook.Cells[1].ExecutionCount);
        Assert.Equal(["parameters"], notebook.Cells[2].Tags);
        Assert.Equal("int a = 1;\nvar b = 2;", notebook.Cells[2].Source);

        var written = JsonNode.Parse(notebook.ToJson())!;
        Assert.True((bool)written["metadata"]!["custom"]!["kept"]!);
        Assert.Equal("polyglot-notebook", (string)written["cells"]![1]!["metadata"]!["vscode"]!["languageId"]!);
        Assert.StartsWith("{\n \"cells\": [\n  {", notebook.ToJson());
    }

    [Fact]
    public void Malformed_notebooks_are_reported_with_file_and_position()
    {
        var json = Assert.Throws<DataFormatException>(() => Notebook.Parse("{\n \"cells\": [\n  {,\n", "bad.ipynb"));
        Assert.Contains("bad.ipynb: invalid JSON at line 3", json.Message);

        var old = Assert.Throws<DataFormatException>(() => Notebook.Parse("{\"nbformat\": 3, \"worksheets\": []}", "old.ipynb"));
        Assert.Contains("old.ipynb: nbformat 3 is not supported", old.Message);

        var cell = Assert.Throws<DataFormatException>(() => Notebook.Parse("{\"nbformat\": 4, \"cells\": [{\"cell_type\": \"code\", \"source\": [1]}]}", "c.ipynb"));
        Assert.Contains("c.ipynb: cell 1 \"source\": item 0 is not a string", cell.Message);
    }

    [Fact]
    public void Kernel_lines_split_a_cell_into_segments()
    {
        var segments = KernelSegment.Split("var a = 1;\n#!pwsh\ndir\n\n#!C#\n#!time\na", "csharp");

        Assert.Equal(
            [("csharp", 0, "var a = 1;"), ("pwsh", 2, "dir\n"), ("csharp", 5, "#!time\na")],
            segments.Select(s => (s.Kernel, s.FirstLine, string.Join("\n", s.Lines))));
        Assert.Equal("fsharp", KernelSegment.Split("#!f#\nlet x = 1", "csharp").Single().Kernel);
    }

    [Fact]
    public void Directives_are_rewritten_in_place_keeping_line_numbers()
    {
        using var folder = new TempFolder();
        File.WriteAllBytes(folder.File("local.dll"), [0]);
        var notes = new List<string>();

        var code = CellDirectives.Rewrite(
            "#r \"nuget: Microsoft.Data.Analysis, 0.23.1\"\n#r \"nuget:libtorch-cpu-linux-x64\"\n#i \"nuget: https://example.org/feed\"\n" +
            "#r \"lib/TorchSharp.dll\"\n#r \"local.dll\"\n#r \"System.Net.Http\"\n#!time\nvar x = 1;",
            folder.Path, "cell 4", notes);

        Assert.Equal(["", "", "", "", $"#r \"{folder.File("local.dll")}\"", "#r \"System.Net.Http\"", "", "var x = 1;"], code.Split('\n'));
        Assert.Equal(5, notes.Count);
        Assert.Contains("cell 4, line 4: #r \"lib/TorchSharp.dll\" uses the TorchSharp already loaded by the runner", notes);

        var missing = Assert.Throws<NotebookException>(() => CellDirectives.Rewrite("#r \"nothere.dll\"", folder.Path, "cell 2", notes));
        Assert.Contains("cell 2, line 1: #r \"nothere.dll\": file not found", missing.Message);
        var magic = Assert.Throws<NotebookException>(() => CellDirectives.Rewrite("\n#!share --from fsharp x", folder.Path, "cell 3", notes));
        Assert.Contains("cell 3, line 2: magic command #!share is not supported", magic.Message);
    }

    [Fact]
    public void Markdown_renders_the_common_constructs_and_escapes_html()
    {
        var html = MarkdownHtml.Render(
            "## Step *one*\nUse `a < b` and **bold** text,\nsee [docs](https://example.org/x?a=1&b=2).\n\n" +
            "- first\n- second\n\n1. one\n2. two\n\n```\nvar x = \"<tag>\";\n```\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n" +
            "<script>alert(1)</script> [bad](javascript:alert(1))");

        Assert.Contains("<h2>Step <em>one</em></h2>", html);
        Assert.Contains("<p>Use <code>a &lt; b</code> and <strong>bold</strong> text,\nsee <a href=\"https://example.org/x?a=1&amp;b=2\">docs</a>.</p>", html);
        Assert.Contains("<ul>\n<li>first</li>\n<li>second</li>\n</ul>", html);
        Assert.Contains("<ol>\n<li>one</li>\n<li>two</li>\n</ol>", html);
        Assert.Contains("<pre><code>var x = &quot;&lt;tag&gt;&quot;;</code></pre>", html);
        Assert.Contains("<blockquote><p>quoted</p>\n</blockquote>", html);
        Assert.Contains("<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody>\n<tr><td>1</td><td>2</td></tr>", html);
        Assert.Contains("&lt;script&gt;", html);
        Assert.DoesNotContain("href=\"javascript", html);
    }

    [Fact]
    public void Cells_compile_against_the_kit_its_dependencies_and_every_kit_namespace()
    {
        var environment = ScriptEnvironment.Shared;

        var kitNamespaces = typeof(KitException).Assembly.GetExportedTypes().Select(t => t.Namespace!).Distinct();
        Assert.All(kitNamespaces, ns => Assert.Contains(ns, environment.Imports));
        Assert.Contains("FineTune.Kit.Plots", environment.Imports);
        Assert.Contains("System.Linq", environment.Imports);
        foreach (var dependency in new[] { "FineTune.Kit", "TorchSharp", "Plotly.NET", "Plotly.NET.CSharp", "Microsoft.Data.Analysis",
                                           "Microsoft.ML.Tokenizers", "FSharp.Core" })
            Assert.True(environment.HasAssembly(dependency), dependency);
        Assert.False(environment.HasAssembly("FineTune.Kit.Tests"));
        Assert.DoesNotContain(environment.KitAssemblies, a => a.GetName().Name!.EndsWith(".Tests", StringComparison.Ordinal));
    }
}
