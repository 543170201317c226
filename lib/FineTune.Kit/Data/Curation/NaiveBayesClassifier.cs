namespace FineTune.Kit.Data.Curation;

/// <summary>
/// Multinomial naive Bayes over lower-cased word counts with add-alpha (Laplace) smoothing: a fast, honest baseline
/// text classifier, used here to produce out-of-fold probabilities for label-noise detection.
/// </summary>
public sealed class NaiveBayesClassifier
{
    private readonly double _alpha;
    private string[] _classes = [];
    private double[] _logPrior = [];
    private Dictionary<string, double[]> _logLikelihood = [];
    private double[] _logUnseen = [];

    /// <summary>Creates an untrained classifier with the given smoothing.</summary>
    public NaiveBayesClassifier(double alpha = 1.0) => _alpha = alpha > 0 ? alpha : throw new ArgumentException($"alpha must be positive, got {alpha}");

    /// <summary>The classes, in the column order of <see cref="PredictProbabilities"/>.</summary>
    public IReadOnlyList<string> Classes => _classes;

    /// <summary>Lower-cased words of letters and digits.</summary>
    public static IEnumerable<string> Words(string text)
    {
        int start = -1;
        for (int i = 0; i <= text.Length; i++)
        {
            bool inWord = i < text.Length && char.IsLetterOrDigit(text[i]);
            if (inWord && start < 0) start = i;
            else if (!inWord && start >= 0) { yield return text[start..i].ToLowerInvariant(); start = -1; }
        }
    }

    /// <summary>Fits class priors and per-class word probabilities; <paramref name="classes"/> fixes the column order.</summary>
    public NaiveBayesClassifier Fit(IReadOnlyList<string> texts, IReadOnlyList<string> labels, IReadOnlyList<string>? classes = null)
    {
        _classes = classes?.ToArray() ?? labels.Distinct().OrderBy(l => l, StringComparer.Ordinal).ToArray();
        var index = _classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
        var docs = new double[_classes.Length];
        var totals = new double[_classes.Length];
        var counts = new Dictionary<string, double[]>();
        for (int d = 0; d < texts.Count; d++)
        {
            int c = index[labels[d]];
            docs[c]++;
            foreach (var w in Words(texts[d]))
            {
                if (!counts.TryGetValue(w, out var v)) counts[w] = v = new double[_classes.Length];
                v[c]++;
                totals[c]++;
            }
        }
        int vocab = counts.Count + 1; // one slot for unseen words
        _logPrior = docs.Select(n => Math.Log((n + _alpha) / (texts.Count + _alpha * _classes.Length))).ToArray();
        _logUnseen = totals.Select(t => Math.Log(_alpha / (t + _alpha * vocab))).ToArray();
        _logLikelihood = counts.ToDictionary(kv => kv.Key,
            kv => kv.Value.Select((n, c) => Math.Log((n + _alpha) / (totals[c] + _alpha * vocab))).ToArray());
        return this;
    }

    /// <summary>Posterior class probabilities of a text (softmax of the log scores).</summary>
    public double[] PredictProbabilities(string text)
    {
        var score = (double[])_logPrior.Clone();
        foreach (var w in Words(text))
        {
            var ll = _logLikelihood.GetValueOrDefault(w) ?? _logUnseen;
            for (int c = 0; c < score.Length; c++) score[c] += ll[c];
        }
        double max = score.Max(), sum = 0;
        for (int c = 0; c < score.Length; c++) sum += score[c] = Math.Exp(score[c] - max);
        for (int c = 0; c < score.Length; c++) score[c] /= sum;
        return score;
    }

    /// <summary>
    /// Out-of-fold probabilities: rows are dealt into <paramref name="folds"/> folds stratified by label (seeded), and
    /// each row is scored by a model trained on the other folds, so no row is scored by a model that saw it.
    /// </summary>
    public static double[][] OutOfFoldProbabilities(IReadOnlyList<string> texts, IReadOnlyList<string> labels,
        IReadOnlyList<string> classes, int folds = 5, int seed = Seeds.Default, double alpha = 1.0)
    {
        var fold = new int[texts.Count];
        var random = new Random(seed);
        int next = 0;
        foreach (var g in Enumerable.Range(0, texts.Count).GroupBy(i => labels[i]).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var members = g.ToList();
            Splitter.Shuffle(members, random);
            foreach (var i in members) fold[i] = next++ % folds;
        }
        var result = new double[texts.Count][];
        for (int f = 0; f < folds; f++)
        {
            var train = Enumerable.Range(0, texts.Count).Where(i => fold[i] != f).ToList();
            if (train.Count == 0) continue;
            var model = new NaiveBayesClassifier(alpha).Fit(train.Select(i => texts[i]).ToList(), train.Select(i => labels[i]).ToList(), classes);
            for (int i = 0; i < texts.Count; i++)
                if (fold[i] == f) result[i] = model.PredictProbabilities(texts[i]);
        }
        return result;
    }
}
