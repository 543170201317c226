using System.Globalization;
using System.Text;

namespace FineTune.Kit.Explain;

/// <summary>A node of the surrogate tree: a split on a token, or a leaf (Token null).</summary>
public sealed record SurrogateNode(string? Token, SurrogateNode? Present, SurrogateNode? Absent, string Label,
    int Support, double Purity);

/// <summary>A fitted surrogate tree with its fidelity and rules.</summary>
public sealed class SurrogateTree
{
    internal SurrogateTree(SurrogateNode root) => Root = root;

    /// <summary>The root node.</summary>
    public SurrogateNode Root { get; }

    /// <summary>Share of held-out rows where the tree predicts the model's label.</summary>
    public double Fidelity { get; private set; }

    /// <summary>The same agreement on the training rows.</summary>
    public double TrainFidelity { get; private set; }

    /// <summary>Held-out rows used for <see cref="Fidelity"/> (0 means it was measured on the training rows).</summary>
    public int HeldOutRows { get; private set; }

    /// <summary>Rows the tree was grown on.</summary>
    public int TrainRows { get; private set; }

    internal SurrogateTree WithFidelity(double fidelity, double train, int heldOut, int trainRows)
    {
        Fidelity = fidelity;
        TrainFidelity = train;
        HeldOutRows = heldOut;
        TrainRows = trainRows;
        return this;
    }

    /// <summary>The label the rules give a row with these tokens.</summary>
    public string Predict(IReadOnlySet<string> tokens)
    {
        var node = Root;
        while (node.Token is not null) node = tokens.Contains(node.Token) ? node.Present! : node.Absent!;
        return node.Label;
    }

    /// <summary>The label the rules give a text (tokenised as in training with texts).</summary>
    public string Predict(string text) => Predict(RuleSurrogate.WordsOf(text));

    /// <summary>One rule per leaf, in tree order.</summary>
    public IReadOnlyList<SurrogateRule> Rules()
    {
        var rules = new List<SurrogateRule>();
        void Walk(SurrogateNode n, List<string> path)
        {
            if (n.Token is null) { rules.Add(new SurrogateRule([.. path], n.Label, n.Support, n.Purity)); return; }
            path.Add($"contains \"{n.Token}\"");
            Walk(n.Present!, path);
            path[^1] = $"not contains \"{n.Token}\"";
            Walk(n.Absent!, path);
            path.RemoveAt(path.Count - 1);
        }
        Walk(Root, []);
        return rules;
    }

    /// <summary>The rules, one per line, followed by the fidelity.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var r in Rules()) sb.AppendLine(r.ToString());
        sb.Append(HeldOutRows > 0
            ? string.Create(CultureInfo.InvariantCulture,
                $"fidelity {Fidelity * 100:F1}% on {HeldOutRows} held-out rows (train {TrainFidelity * 100:F1}% on {TrainRows})")
            : string.Create(CultureInfo.InvariantCulture,
                $"fidelity {Fidelity * 100:F1}% on the {TrainRows} training rows (nothing held out)"));
        return sb.ToString();
    }
}
