using System.Globalization;
using System.Text.Json.Nodes;

namespace FineTune.Kit.Data.Curation;

/// <summary>
/// Flags (or removes) likely mislabelled rows with <see cref="ConfidentLearning"/>. Probabilities come either from
/// the caller (out-of-fold predictions of any model, keyed by source line) or from a baseline multinomial naive Bayes
/// with k-fold out-of-fold predictions. Flagging adds <c>label_issue: true</c> and <c>suggested_label</c> to the row
/// and counts it as modified.
/// </summary>
public sealed class LabelNoiseRule : ICurationRule
{
    private readonly IReadOnlyList<string>? _classes;
    private readonly IReadOnlyDictionary<int, double[]>? _probabilitiesByLine;

    /// <summary>Uses the naive Bayes baseline with <paramref name="folds"/>-fold out-of-fold predictions.</summary>
    public LabelNoiseRule(string column = "label", bool remove = false, int folds = 5, int seed = Seeds.Default, IReadOnlyList<string>? textColumns = null)
    {
        Column = column;
        Remove = remove;
        Folds = folds >= 2 ? folds : throw new ArgumentException($"label noise needs at least 2 folds, got {folds}");
        Seed = seed;
        TextColumns = textColumns;
    }

    /// <summary>Uses the caller's out-of-fold probabilities: one row of class probabilities per source line.</summary>
    public LabelNoiseRule(IReadOnlyList<string> classes, IReadOnlyDictionary<int, double[]> probabilitiesByLine, string column = "label", bool remove = false)
        : this(column, remove)
    {
        _classes = classes;
        _probabilitiesByLine = probabilitiesByLine;
    }

    /// <summary>The label column.</summary>
    public string Column { get; }

    /// <summary>Remove candidates instead of flagging them.</summary>
    public bool Remove { get; }

    /// <summary>Folds of the baseline.</summary>
    public int Folds { get; }

    /// <summary>Seed of the fold assignment.</summary>
    public int Seed { get; }

    /// <summary>Text columns the baseline reads (null: the default text columns).</summary>
    public IReadOnlyList<string>? TextColumns { get; }

    /// <inheritdoc/>
    public string Name => "label_noise";

    /// <inheritdoc/>
    public RuleOutcome Apply(IReadOnlyList<Example> rows)
    {
        var labelled = Enumerable.Range(0, rows.Count).Where(i => rows[i][Column] is not null).ToList();
        var labels = labelled.Select(i => rows[i][Column]!).ToList();
        IReadOnlyList<string> classes;
        IReadOnlyList<double[]> probabilities;
        if (_probabilitiesByLine is not null)
        {
            classes = _classes!;
            probabilities = labelled.Select(i => _probabilitiesByLine.TryGetValue(rows[i].Line, out var p) ? p
                : throw new ArgumentException($"no predicted probabilities for line {rows[i].Line}")).ToList();
        }
        else
        {
            classes = labels.Distinct().OrderBy(l => l, StringComparer.Ordinal).ToList();
            if (classes.Count < 2 || labelled.Count < Folds) return new RuleOutcome(rows, []) { Notes = ["label noise: too few labelled rows or classes to judge"] };
            probabilities = NaiveBayesClassifier.OutOfFoldProbabilities(labelled.Select(i => rows[i].Content(TextColumns)).ToList(), labels, classes, Folds, Seed);
        }
        var issues = ConfidentLearning.FindIssues(labels, probabilities, classes).ToDictionary(x => labelled[x.Index]);
        var kept = new List<Example>(rows.Count);
        var changes = new List<RowChange>();
        for (int i = 0; i < rows.Count; i++)
        {
            if (!issues.TryGetValue(i, out var issue)) { kept.Add(rows[i]); continue; }
            var reason = $"label '{issue.GivenLabel}' may be wrong: model suggests '{issue.SuggestedLabel}' " +
                         $"(p(given) = {issue.SelfConfidence.ToString("0.00", CultureInfo.InvariantCulture)})";
            if (Remove) { changes.Add(new RowChange(rows[i].Line, ChangeKind.Removed, reason, rows[i].Content(TextColumns))); continue; }
            kept.Add(rows[i].With("label_issue", JsonValue.Create(true)).With("suggested_label", issue.SuggestedLabel));
            changes.Add(new RowChange(rows[i].Line, ChangeKind.Modified, reason, rows[i].Content(TextColumns)));
        }
        return new RuleOutcome(kept, changes) { Notes = [$"label noise: {issues.Count} candidates among {labelled.Count} labelled rows"] };
    }
}
