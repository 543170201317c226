using System.Text.RegularExpressions;
using FineTune.Kit.Models;
using FineTune.Kit.Tests.Build;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FineTune.Kit.Tests.Demo;

public class ReadmeExampleTests
{
    [Fact]
    public void The_csharp_example_in_the_readme_compiles_against_the_kit()
    {
        var readme = File.ReadAllText(Path.Combine(RepoFiles.Root, "README.md"));
        var blocks = Regex.Matches(readme, "```csharp\\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(blocks);
        // The framework plus the kit and what it loaded (TorchSharp, Plotly.NET, …): what a user's project references.
        _ = typeof(CausalLM);
        var framework = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var loaded = AppDomain.CurrentDomain.GetAssemblies().Where(a => !a.IsDynamic && a.Location.Length > 0).Select(a => a.Location);
        var references = framework.Concat(loaded).Distinct().Select(p => MetadataReference.CreateFromFile(p));
        // the implicit usings of an SDK project or a `dotnet run file.cs` app
        const string implicitUsings = "global using System; global using System.IO; global using System.Linq; " +
                                      "global using System.Collections.Generic; global using System.Threading.Tasks;";
        foreach (var code in blocks)
        {
            var compilation = CSharpCompilation.Create("ReadmeExample",
                [CSharpSyntaxTree.ParseText(code), CSharpSyntaxTree.ParseText(implicitUsings)], references,
                new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
            var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
            Assert.True(errors.Count == 0, "README example does not compile:\n" + string.Join("\n", errors));
        }
    }
}
