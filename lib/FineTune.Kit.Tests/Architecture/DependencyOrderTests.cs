using FineTune.Kit.Data;

namespace FineTune.Kit.Tests.Architecture;

/// <summary>
/// The kit's namespaces use each other in one direction: a stage may use the stages before it and the shared
/// leaves, never a later stage. The order is the one in the architecture guide.
/// </summary>
public class DependencyOrderTests
{
    private const string Kit = "FineTune.Kit";

    /// <summary>Shared leaves, usable from anywhere; each may use the leaves before it.</summary>
    private static readonly string[] Leaves = ["", "Io", "Plots"];

    /// <summary>The stages, earliest first; a sub-namespace is a stage of its own.</summary>
    private static readonly string[] Stages =
    [
        "Data", "Data.Curation", "Text.Jinja", "Text", "Models", "Lora", "Training", "Prompting",
        "Evaluation", "Evaluation.Generation", "Evaluation.Comparison", "Explain",
        "Preferences", "Audit", "Serving", "Monitoring", "Sample", "Demo",
    ];

    /// <summary>Why <paramref name="from"/> may not use <paramref name="to"/>, or null when it may (names relative to the kit's root namespace).</summary>
    internal static string? Violation(string from, string to)
    {
        if (from == to) return null;
        int leafFrom = Array.IndexOf(Leaves, from), leafTo = Array.IndexOf(Leaves, to);
        int stageFrom = Array.IndexOf(Stages, from), stageTo = Array.IndexOf(Stages, to);
        if (leafFrom < 0 && stageFrom < 0) return $"{Name(from)} has no place in the dependency order";
        if (leafTo < 0 && stageTo < 0) return $"{Name(to)} has no place in the dependency order";
        if (leafTo >= 0) return leafFrom < 0 || leafTo < leafFrom ? null : $"the shared leaf {Name(from)} may only use leaves before it";
        if (leafFrom >= 0) return $"the shared leaf {Name(from)} may not use the stage {Name(to)}";
        return stageTo < stageFrom ? null : $"{Name(to)} comes after {Name(from)}";
    }

    private static string Name(string relative) => relative.Length == 0 ? Kit : $"{Kit}.{relative}";

    private static string Relative(string ns) => ns == Kit ? "" : ns[(Kit.Length + 1)..];

    private static IReadOnlyList<TypeUse> KitUses() => NamespaceReferences.Read(typeof(Dataset).Assembly.Location, Kit);

    [Fact]
    public void No_namespace_of_the_kit_uses_a_later_stage()
    {
        var wrong = KitUses()
            .Select(u => (Use: u, Why: Violation(Relative(u.FromNamespace), Relative(u.ToNamespace))))
            .Where(x => x.Why is not null)
            .Select(x => $"{x.Use.FromNamespace}.{x.Use.FromType} uses {x.Use.ToNamespace}.{x.Use.ToType}: {x.Why}")
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} uses against the dependency order:\n" + string.Join("\n", wrong));
    }

    [Fact]
    public void The_reader_sees_uses_in_signatures_bodies_and_lambdas()
    {
        var uses = KitUses();
        bool Uses(string from, string to) => uses.Any(u => $"{u.FromNamespace}.{u.FromType}" == from && $"{u.ToNamespace}.{u.ToType}" == to);
        // a field type, a base type, and a method body: each must be seen, or the order test could pass on a blind reader
        Assert.True(Uses("FineTune.Kit.Lora.LoraLinear", "FineTune.Kit.Lora.LoraConfig") || Uses("FineTune.Kit.Lora.LoraAdapter", "FineTune.Kit.Lora.LoraLinear"));
        Assert.True(Uses("FineTune.Kit.Training.Trainer", "FineTune.Kit.Models.CausalLM"));
        Assert.True(Uses("FineTune.Kit.Data.Dataset", "FineTune.Kit.Data.Example"));
        Assert.Contains(uses, u => u.FromNamespace == "FineTune.Kit.Training" && u.ToNamespace == "FineTune.Kit.Io");
    }

    [Theory]
    [InlineData("Training", "Models", true)]
    [InlineData("Models", "Lora", false)]
    [InlineData("Data", "Data.Curation", false)]
    [InlineData("Data.Curation", "Data", true)]
    [InlineData("Prompting", "Evaluation", false)]
    [InlineData("Explain", "Plots", true)]
    [InlineData("Plots", "Io", true)]
    [InlineData("Io", "Plots", false)]
    [InlineData("Io", "Data", false)]
    [InlineData("Data", "", true)]
    [InlineData("Data", "Mystery", false)]
    public void The_rule_allows_only_earlier_stages_and_leaves(string from, string to, bool allowed) =>
        Assert.Equal(allowed, Violation(from, to) is null);
}
