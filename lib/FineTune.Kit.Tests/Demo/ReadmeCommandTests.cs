using System.Text;
using System.Text.RegularExpressions;
using FineTune.Kit.Tests.Build;
using FineTune.Kit.Tests.Cli;
using FineTune.Kit.Tests.Models;

namespace FineTune.Kit.Tests.Demo;

/// <summary>The `ftk` command lines of the README work as written (run at small sizes, or parsed where they are benchmarks).</summary>
public class ReadmeCommandTests
{
    private static readonly string Readme = File.ReadAllText(Path.Combine(RepoFiles.Root, "README.md"));

    /// <summary>The command lines of the README's plain code blocks, joined over trailing backslashes and split into words.</summary>
    internal static List<string[]> CodeBlockCommands()
    {
        var commands = new List<string[]>();
        string? fence = null;
        var pending = "";
        foreach (var line in Readme.Split('\n'))
        {
            if (line.StartsWith("```", StringComparison.Ordinal)) { fence = fence is null ? line[3..].Trim() : null; continue; }
            if (fence != "" || !(pending.Length > 0 || line.StartsWith("ftk ", StringComparison.Ordinal))) continue;
            pending += line.EndsWith('\\') ? line[..^1] : line;
            if (line.EndsWith('\\')) continue;
            commands.Add(Words(pending).Skip(1).ToArray());
            pending = "";
        }
        return commands;
    }

    /// <summary>Splits a shell command line into words: single quotes keep everything, double quotes keep all but \" and \\.</summary>
    internal static List<string> Words(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(word.ToString());
                word.Clear();
                inWord = false;
                continue;
            }
            inWord = true;
            if (c == '\'')
            {
                int end = line.IndexOf('\'', i + 1);
                word.Append(line, i + 1, end - i - 1);
                i = end;
            }
            else if (c == '"')
            {
                for (i++; line[i] != '"'; i++)
                {
                    if (line[i] == '\\' && i + 1 < line.Length && line[i + 1] is '"' or '\\') i++;
                    word.Append(line[i]);
                }
            }
            else word.Append(c);
        }
        if (inWord) words.Add(word.ToString());
        return words;
    }

    [Fact]
    public void The_shell_word_splitter_reads_quotes_as_a_shell_does()
    {
        Assert.Equal(["train", "--instruction", "", "--separator", @"\n\n", "--input-prefix", "Customer: ", "a\"b"],
            Words("""train --instruction "" --separator '\n\n' --input-prefix "Customer: " "a\"b" """));
    }

    [Fact]
    public void The_readme_command_blocks_run_one_after_the_other()
    {
        var commands = CodeBlockCommands();
        Assert.Contains(commands, c => c[0] == "curate");
        Assert.Contains(commands, c => c[0] == "train");
        var root = RepoFiles.Root;
        var work = TempFolder.Fresh();
        foreach (var documented in commands)
        {
            // the README's paths: data/ is the repository's, out/ a fresh folder; training runs 2 steps, validation and test keep 12 tickets
            var args = documented.Select(a => a.StartsWith("data/", StringComparison.Ordinal) ? Path.Combine(root, a)
                : a.StartsWith("out/", StringComparison.Ordinal) ? Path.Combine(work, a) : a).ToList();
            if (args[0] == "train") args.AddRange(["--steps", "2", "--batch-size", "4"]);
            var (exit, output, err) = CliRunner.Run([.. args]);
            Assert.True(exit == 0, $"ftk {string.Join(' ', documented)}\nexit {exit}\n{err}\n{output}");
            if (args[0] == "train") Assert.Contains("classification: 8 labels", output);
            if (args[0] == "curate")
                foreach (var split in new[] { "validation.jsonl", "test.jsonl" })
                {
                    var file = Path.Combine(work, "out", "curated", split);
                    File.WriteAllLines(file, File.ReadAllLines(file).Take(12));
                }
        }
        Directory.Delete(work, recursive: true);
    }

    [Fact]
    public void The_benchmark_command_lines_of_the_readme_parse()
    {
        var lines = Regex.Matches(Readme, @"^\| `(ftk bench [^`]*)`", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        Assert.True(lines.Count >= 3, string.Join("\n", lines));
        foreach (var line in lines.Where(l => !l.Contains('|')))
        {
            var parse = FineTune.Kit.Cli.Program.Parse([.. Words(line).Skip(1)]);
            Assert.True(parse.Errors.Count == 0, $"{line}: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
        }
    }
}
