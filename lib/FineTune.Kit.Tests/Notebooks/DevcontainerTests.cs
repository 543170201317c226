using System.Text.Json;
using System.Text.RegularExpressions;

namespace FineTune.Kit.Tests.Notebooks;

/// <summary>Docker does not run here: these check the dev container files statically.</summary>
public class DevcontainerTests
{
    private const string BuildCommand = "dotnet build FineTuneKit.sln -c Release";

    private static readonly HashSet<string> Instructions = new(StringComparer.OrdinalIgnoreCase)
    {
        "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG",
        "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
    };

    // logical instructions: comments dropped, backslash continuations joined
    private static List<string> DockerInstructions(string dockerfile)
    {
        var result = new List<string>();
        string? pending = null;
        foreach (var raw in dockerfile.Replace("\r\n", "\n").Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && pending is null)) continue;
            var text = line.EndsWith('\\') ? line[..^1].TrimEnd() : line;
            pending = pending is null ? text : pending + " " + text;
            if (line.EndsWith('\\')) continue;
            result.Add(pending);
            pending = null;
        }
        Assert.Null(pending); // a continuation with nothing after it
        return result;
    }

    [Fact]
    public void Devcontainer_json_builds_from_the_dockerfile_with_the_notebook_extensions()
    {
        var json = JsonDocument.Parse(RepoFiles.Read(".devcontainer/devcontainer.json"),
            new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = false }).RootElement;

        var build = json.GetProperty("build");
        var dockerfile = Path.GetFullPath(Path.Combine(RepoFiles.PathOf(".devcontainer"), build.GetProperty("dockerfile").GetString()!));
        Assert.True(File.Exists(dockerfile), dockerfile);
        Assert.Equal(RepoFiles.PathOf("Dockerfile.devcontainer"), dockerfile);
        var context = Path.GetFullPath(Path.Combine(RepoFiles.PathOf(".devcontainer"), build.GetProperty("context").GetString()!));
        Assert.Equal(RepoFiles.Root.TrimEnd('/'), context.TrimEnd('/'));
        Assert.Contains(build.GetProperty("args").GetProperty("TORCH_BACKEND").GetString(), new[] { "cpu", "cuda" });

        var extensions = json.GetProperty("customizations").GetProperty("vscode").GetProperty("extensions")
            .EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(["ms-dotnettools.csharp", "ms-dotnettools.csdevkit", "ms-dotnettools.dotnet-interactive-vscode"], extensions);
        Assert.Equal("dotnet tool restore && " + BuildCommand, json.GetProperty("postCreateCommand").GetString());
    }

    [Fact]
    public void Dockerfile_parses_copies_existing_files_and_builds_like_the_docs()
    {
        var instructions = DockerInstructions(RepoFiles.Read("Dockerfile.devcontainer"));

        foreach (var instruction in instructions)
            Assert.Contains(instruction.Split(' ')[0], Instructions);
        Assert.Equal("FROM", instructions.First(i => !i.StartsWith("ARG ", StringComparison.Ordinal)).Split(' ')[0]);
        var declared = instructions.Where(i => i.StartsWith("ARG ", StringComparison.Ordinal)).Select(i => i[4..].Split('=')[0]).ToHashSet();
        Assert.Contains("TORCH_BACKEND", declared);

        foreach (var copy in instructions.Where(i => i.StartsWith("COPY ", StringComparison.Ordinal)))
        {
            var sources = copy.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Where(a => !a.StartsWith("--")).SkipLast(1);
            foreach (var source in sources)
                Assert.True(source == "." || File.Exists(RepoFiles.PathOf(source)) || Directory.Exists(RepoFiles.PathOf(source)), source);
        }

        var build = instructions.Single(i => i.Contains("dotnet build", StringComparison.Ordinal));
        Assert.Contains("dotnet tool restore", build); // the notebook engine's tools, pinned in .config/dotnet-tools.json
        Assert.Contains(BuildCommand + " -p:TorchBackend=${TORCH_BACKEND}", build);
        Assert.Contains(BuildCommand, RepoFiles.Read("docs/notebooks.md"));
        Assert.Matches(new Regex(@"--build-arg TORCH_BACKEND=cuda"), RepoFiles.Read("docs/notebooks.md"));
    }

    [Fact]
    public void The_notebook_engine_tools_are_pinned_in_the_tool_manifest()
    {
        using var manifest = JsonDocument.Parse(RepoFiles.Read(".config/dotnet-tools.json"));
        var tools = manifest.RootElement.GetProperty("tools");
        Assert.Equal("0.3.259", tools.GetProperty("dotnet-repl").GetProperty("version").GetString());
        Assert.Equal("1.0.712001", tools.GetProperty("microsoft.dotnet-interactive").GetProperty("version").GetString());
    }
}
