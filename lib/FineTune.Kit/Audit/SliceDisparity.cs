using FineTune.Kit.Evaluation;

namespace FineTune.Kit.Audit;

/// <summary>How often one group is given one label, and how often that is wrong, treating the label as "positive".</summary>
/// <param name="Label">The label.</param>
/// <param name="Support">Examples of the group whose gold label it is.</param>
/// <param name="SelectionRate">Share of the group predicted as the label (what demographic parity compares).</param>
/// <param name="FalsePositiveRate">Among the group's examples of other labels, the share predicted as this one (NaN when there are none).</param>
/// <param name="FalseNegativeRate">Among the group's examples of this label, the share predicted as another (NaN when there are none).</param>
public sealed record LabelRates(string Label, int Support, double SelectionRate, double FalsePositiveRate, double FalseNegativeRate);

/// <summary>The metrics of one group.</summary>
/// <param name="Group">The group column's value.</param>
/// <param name="Count">Examples in the group.</param>
/// <param name="TooSmall">True when the group has fewer examples than the minimum: listed, but left out of every gap and difference.</param>
/// <param name="Accuracy">Accuracy with its bootstrap interval (resampling the group's examples).</param>
/// <param name="MacroF1">Macro-F1 over the labels that occur in the group (gold or predicted).</param>
/// <param name="GapToRest">Accuracy of the group minus accuracy of every other example, with a bootstrap interval; null for a group too small to judge.</param>
/// <param name="Labels">Selection, false-positive and false-negative rates per label.</param>
public sealed record GroupMetrics(string Group, int Count, bool TooSmall, ConfidenceInterval Accuracy, double MacroF1,
    ConfidenceInterval? GapToRest, IReadOnlyList<LabelRates> Labels);

/// <summary>The largest difference of a metric between two judged groups, with a bootstrap interval for that pair.</summary>
/// <param name="Metric">"accuracy" or "macro_f1".</param>
/// <param name="BestGroup">The group with the highest value.</param>
/// <param name="WorstGroup">The group with the lowest value.</param>
/// <param name="Gap">Best minus worst; the interval resamples the examples and recomputes the difference of these two groups.</param>
public sealed record MaxGap(string Metric, string BestGroup, string WorstGroup, ConfidenceInterval Gap);

/// <summary>
/// A between-group difference that is a maximum over labels (demographic parity, equalised odds), with the label
/// that attains it, the value per label, and a bootstrap interval for that label's difference.
/// </summary>
/// <remarks>
/// Both are maxima (over labels, and a range over groups), so on small cells they grow with noise alone: a model that
/// treats every group alike still shows a positive difference. Read them beside the per-label values and group sizes.
/// </remarks>
public sealed record ParityDifference(string Label, ConfidenceInterval Difference, IReadOnlyDictionary<string, double> PerLabel);

/// <summary>What <see cref="SliceDisparity"/> measured.</summary>
/// <param name="Labels">Every label seen (gold or predicted), sorted.</param>
/// <param name="Groups">Per group, sorted by name; small groups are flagged, not dropped.</param>
/// <param name="MinGroupSize">Groups with fewer examples are not judged.</param>
/// <param name="OverallAccuracy">Accuracy over every example.</param>
/// <param name="AccuracyGap">Largest accuracy gap between judged groups; null with fewer than two.</param>
/// <param name="MacroF1Gap">Largest macro-F1 gap between judged groups; null with fewer than two.</param>
/// <param name="DemographicParity">Largest difference in selection rate between judged groups, over labels.</param>
/// <param name="EqualizedOdds">Largest difference in true- or false-positive rate between judged groups, over labels.</param>
public sealed record DisparityResult(IReadOnlyList<string> Labels, IReadOnlyList<GroupMetrics> Groups, int MinGroupSize, double OverallAccuracy,
    MaxGap? AccuracyGap, MaxGap? MacroF1Gap, ParityDifference? DemographicParity, ParityDifference? EqualizedOdds)
{
    /// <summary>The groups large enough to judge.</summary>
    public IEnumerable<GroupMetrics> Judged => Groups.Where(g => !g.TooSmall);
}

/// <summary>
/// Slice disparity: how a classifier's accuracy, macro-F1, false-positive and false-negative rates differ between the
/// groups of a column (region, customer segment, language), the largest gap with a bootstrap interval, and the
/// demographic-parity and equalised-odds differences. Groups below <see cref="MinGroupSize"/> are listed and flagged,
/// never ranked: a gap measured on a handful of examples says nothing.
/// </summary>
/// <remarks>
/// Multi-class rates are one-versus-rest per label. Demographic-parity difference is, per label, the range over judged
/// groups of the share predicted as that label; equalised-odds difference is, per label, the larger of the ranges of
/// the true-positive and the false-positive rate (the definition fairlearn uses for a binary task); both are then the
/// maximum over labels. Intervals resample all examples with replacement (<see cref="Bootstrap"/>), so group sizes vary
/// between resamples as they would between test sets. The two groups of the largest gap are picked on the full data
/// and kept fixed in the resamples, and so is the label of each parity difference; picking them on the data favours a
/// large value when many groups are alike, so read them beside the per-group intervals.
/// </remarks>
/// <example>
/// <code>
/// var result = SliceDisparity.Of(gold, predicted, regions).MinGroupSize(30).Seed(7).Compute();
/// Console.WriteLine(result.AccuracyGap);   // MaxGap { Metric = accuracy, BestGroup = …, Gap = 0.210 [0.120, 0.300] }
/// </code>
/// </example>
public sealed class SliceDisparity
{
    private readonly IReadOnlyList<string> _gold, _predicted, _groups;

    private SliceDisparity(IReadOnlyList<string> gold, IReadOnlyList<string> predicted, IReadOnlyList<string> groups)
    {
        (_gold, _predicted, _groups) = (gold, predicted, groups);
    }

    /// <summary>Starts a disparity measurement of predictions against gold labels, one group value per example.</summary>
    public static SliceDisparity Of(IReadOnlyList<string> gold, IReadOnlyList<string> predicted, IReadOnlyList<string> groups)
    {
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(groups);
        if (gold.Count != predicted.Count || gold.Count != groups.Count)
            throw new ArgumentException($"gold ({gold.Count}), predicted ({predicted.Count}) and groups ({groups.Count}) must have one entry per example");
        if (gold.Count == 0) throw new ArgumentException("slice disparity needs at least one example");
        return new SliceDisparity(gold, predicted, groups);
    }

    /// <summary>Groups with fewer examples are flagged and not ranked (default 30).</summary>
    public int MinGroupSizeValue { get; private set; } = 30;
    /// <summary>Bootstrap resamples (default 1,000).</summary>
    public int ResamplesValue { get; private set; } = 1000;
    /// <summary>Confidence level of every interval (default 0.95).</summary>
    public double LevelValue { get; private set; } = 0.95;
    /// <summary>Seed of the resampling (default <see cref="Seeds.Default"/>).</summary>
    public int SeedValue { get; private set; } = Seeds.Default;

    /// <summary>Groups with fewer than <paramref name="examples"/> examples are flagged, not ranked (at least 1).</summary>
    public SliceDisparity MinGroupSize(int examples)
    {
        if (examples < 1) throw new ArgumentOutOfRangeException(nameof(examples), examples, "MinGroupSize must be at least 1");
        MinGroupSizeValue = examples;
        return this;
    }

    /// <summary>Bootstrap resamples per interval (at least 1).</summary>
    public SliceDisparity Resamples(int count)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "Resamples must be at least 1");
        ResamplesValue = count;
        return this;
    }

    /// <summary>Confidence level in (0, 1).</summary>
    public SliceDisparity Level(double level)
    {
        if (!(level > 0 && level < 1)) throw new ArgumentOutOfRangeException(nameof(level), level, "Level must be in (0, 1)");
        LevelValue = level;
        return this;
    }

    /// <summary>Seed of the resampling.</summary>
    public SliceDisparity Seed(int seed)
    {
        SeedValue = seed;
        return this;
    }

    /// <summary>Computes every metric and interval.</summary>
    public DisparityResult Compute()
    {
        var labels = ClassificationMetrics.LabelSet(_gold, _predicted);
        var groupNames = _groups.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var data = new Coded(
            _gold.Select(g => IndexOf(labels, g)).ToArray(),
            _predicted.Select(p => IndexOf(labels, p)).ToArray(),
            _groups.Select(g => Array.IndexOf(groupNames, g)).ToArray(),
            labels.Count, groupNames.Length);
        var n = _gold.Count;
        var identity = Enumerable.Range(0, n).ToArray();
        var full = data.Counts(identity);
        var bootstrap = new Bootstrap(ResamplesValue, LevelValue, SeedValue);
        var judged = Enumerable.Range(0, groupNames.Length).Where(g => full.Size(g) >= MinGroupSizeValue).ToArray();

        var groups = new List<GroupMetrics>();
        for (var g = 0; g < groupNames.Length; g++)
        {
            var members = Enumerable.Range(0, n).Where(i => data.Group[i] == g).ToArray();
            var accuracy = bootstrap.Accuracy(members.Select(i => data.Gold[i] == data.Predicted[i]).ToArray());
            var tooSmall = !judged.Contains(g);
            ConfidenceInterval? gapToRest = null;
            if (!tooSmall && members.Length < n)
            {
                var group = g;
                var fullGap = full.Accuracy(group) - full.AccuracyOfRest(group);
                gapToRest = bootstrap.Of(n, s =>
                {
                    var c = data.Counts(s);
                    var gap = c.Accuracy(group) - c.AccuracyOfRest(group);
                    return double.IsNaN(gap) ? fullGap : gap;
                });
            }
            var rates = Enumerable.Range(0, labels.Count).Select(l => new LabelRates(labels[l], full.Support(g, l),
                full.SelectionRate(g, l), full.FalsePositiveRate(g, l), full.FalseNegativeRate(g, l))).ToArray();
            groups.Add(new GroupMetrics(groupNames[g], members.Length, tooSmall, accuracy, full.MacroF1(g), gapToRest, rates));
        }

        MaxGap? Gap(string metric, Func<Counts, int, double> value)
        {
            if (judged.Length < 2) return null;
            var best = judged.MaxBy(g => value(full, g));
            var worst = judged.MinBy(g => value(full, g));
            var fullGap = value(full, best) - value(full, worst);
            var ci = bootstrap.Of(n, s =>
            {
                var c = data.Counts(s);
                return OrFull(value(c, best), value(full, best)) - OrFull(value(c, worst), value(full, worst));
            });
            return new MaxGap(metric, groupNames[best], groupNames[worst], ci with { Estimate = fullGap });
        }

        ParityDifference? Difference(Func<Counts, int, int, double> perGroupLabel)
        {
            if (judged.Length < 2) return null;
            var perLabel = Enumerable.Range(0, labels.Count).Select(l => Range(full, l, perGroupLabel)).ToArray();
            var defined = Enumerable.Range(0, labels.Count).Where(l => !double.IsNaN(perLabel[l])).ToArray();
            if (defined.Length == 0) return null;
            var worst = defined.MaxBy(l => perLabel[l]);
            var ci = bootstrap.Of(n, s => OrFull(Range(data.Counts(s), worst, perGroupLabel), perLabel[worst]));
            return new ParityDifference(labels[worst], ci with { Estimate = perLabel[worst] },
                Enumerable.Range(0, labels.Count).ToDictionary(l => labels[l], l => perLabel[l]));
        }

        // the range of a per-group rate over the judged groups where it is defined
        double Range(Counts c, int label, Func<Counts, int, int, double> perGroupLabel)
        {
            var values = judged.Select(g => perGroupLabel(c, g, label)).Where(v => !double.IsNaN(v)).ToArray();
            return values.Length < 2 ? double.NaN : values.Max() - values.Min();
        }

        return new DisparityResult(labels, groups, MinGroupSizeValue, full.OverallAccuracy(),
            Gap("accuracy", (c, g) => c.Accuracy(g)),
            Gap("macro_f1", (c, g) => c.MacroF1(g)),
            Difference((c, g, l) => c.SelectionRate(g, l)),
            EqualizedOddsDifference(full, data, bootstrap, judged, labels));
    }

    // equalised odds takes two rates per group and label, so it is computed apart from the one-rate differences
    private static ParityDifference? EqualizedOddsDifference(Counts full, Coded data, Bootstrap bootstrap, int[] judged, IReadOnlyList<string> labels)
    {
        if (judged.Length < 2) return null;
        double Of(Counts c, int l)
        {
            double RangeOf(Func<int, double> rate)
            {
                var v = judged.Select(rate).Where(x => !double.IsNaN(x)).ToArray();
                return v.Length < 2 ? double.NaN : v.Max() - v.Min();
            }
            var tpr = RangeOf(g => 1 - c.FalseNegativeRate(g, l));
            var fpr = RangeOf(g => c.FalsePositiveRate(g, l));
            return double.IsNaN(tpr) ? fpr : double.IsNaN(fpr) ? tpr : Math.Max(tpr, fpr);
        }
        var perLabel = Enumerable.Range(0, labels.Count).Select(l => Of(full, l)).ToArray();
        var defined = Enumerable.Range(0, labels.Count).Where(l => !double.IsNaN(perLabel[l])).ToArray();
        if (defined.Length == 0) return null;
        var worst = defined.MaxBy(l => perLabel[l]);
        var ci = bootstrap.Of(data.Gold.Length, s => OrFull(Of(data.Counts(s), worst), perLabel[worst]));
        return new ParityDifference(labels[worst], ci with { Estimate = perLabel[worst] },
            Enumerable.Range(0, labels.Count).ToDictionary(l => labels[l], l => perLabel[l]));
    }

    // a group that drew no example in a resample (chance about e^-size) keeps its full-data value
    private static double OrFull(double value, double full) => double.IsNaN(value) ? full : value;

    private static int IndexOf(IReadOnlyList<string> labels, string label)
    {
        for (var i = 0; i < labels.Count; i++) if (string.Equals(labels[i], label, StringComparison.Ordinal)) return i;
        throw new InvalidOperationException($"label '{label}' missing from the label set");
    }

    /// <summary>Labels and groups as indices, so that a resample is one pass of counting.</summary>
    private sealed record Coded(int[] Gold, int[] Predicted, int[] Group, int Labels, int Groups)
    {
        public Counts Counts(int[] sample)
        {
            var c = new int[Groups, Labels, Labels];
            foreach (var i in sample) c[Group[i], Gold[i], Predicted[i]]++;
            return new Counts(c, Groups, Labels);
        }
    }

    /// <summary>A confusion matrix per group (group, gold, predicted) and the rates read from it.</summary>
    private sealed class Counts(int[,,] c, int groups, int labels)
    {
        public int Size(int g)
        {
            var s = 0;
            for (var a = 0; a < labels; a++) for (var b = 0; b < labels; b++) s += c[g, a, b];
            return s;
        }

        private int Correct(int g)
        {
            var s = 0;
            for (var a = 0; a < labels; a++) s += c[g, a, a];
            return s;
        }

        public double Accuracy(int g) => Ratio(Correct(g), Size(g));

        public double AccuracyOfRest(int g)
        {
            int correct = 0, size = 0;
            for (var h = 0; h < groups; h++)
                if (h != g) { correct += Correct(h); size += Size(h); }
            return Ratio(correct, size);
        }

        public double OverallAccuracy()
        {
            int correct = 0, size = 0;
            for (var h = 0; h < groups; h++) { correct += Correct(h); size += Size(h); }
            return Ratio(correct, size);
        }

        public int Support(int g, int l)
        {
            var s = 0;
            for (var b = 0; b < labels; b++) s += c[g, l, b];
            return s;
        }

        private int PredictedAs(int g, int l)
        {
            var s = 0;
            for (var a = 0; a < labels; a++) s += c[g, a, l];
            return s;
        }

        public double SelectionRate(int g, int l) => Ratio(PredictedAs(g, l), Size(g));

        public double FalsePositiveRate(int g, int l) => Ratio(PredictedAs(g, l) - c[g, l, l], Size(g) - Support(g, l));

        public double FalseNegativeRate(int g, int l) => Ratio(Support(g, l) - c[g, l, l], Support(g, l));

        /// <summary>Macro-F1 over the labels that occur in the group, gold or predicted (as <see cref="SliceMetrics"/> does).</summary>
        public double MacroF1(int g)
        {
            double sum = 0;
            var present = 0;
            for (var l = 0; l < labels; l++)
            {
                int support = Support(g, l), predicted = PredictedAs(g, l);
                if (support + predicted == 0) continue;
                present++;
                sum += ClassificationMetrics.Prf(c[g, l, l], predicted, support).F1;
            }
            return present == 0 ? double.NaN : sum / present;
        }

        private static double Ratio(int a, int b) => b == 0 ? double.NaN : (double)a / b;
    }
}
