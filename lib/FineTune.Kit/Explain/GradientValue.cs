namespace FineTune.Kit.Explain;

/// <summary>f at one input vector and its gradient with respect to that vector.</summary>
public readonly record struct ValueAndGradient(double Value, double[] Gradient);

/// <summary>
/// Evaluates f and ∂f/∂input for a batch of input vectors (for a language model: flattened input embeddings
/// [T·d], value = log-probability of the target, gradient from one backward pass per row or per batch).
/// </summary>
public delegate ValueAndGradient[] GradientValue(IReadOnlyList<double[]> inputs);

/// <summary>
/// How the dimensions of the input vector map onto features: per dimension, or per token of a [T × d] embedding
/// matrix flattened row by row (token t owns dimensions t·d .. t·d + d − 1), then per feature of a
/// <see cref="FeatureSet"/>. Dimensions of tokens outside every feature belong to no feature: the gradient methods
/// hold them at the input (see <see cref="BaselineFor"/>), as the coalition methods keep such tokens present.
/// </summary>
public sealed class InputLayout
{
    private readonly int[] _featureOfDimension;

    private InputLayout(int[] featureOfDimension, IReadOnlyList<string> names, FeatureSet? source)
    {
        _featureOfDimension = featureOfDimension;
        Names = names;
        Source = source;
    }

    /// <summary>Length of the input vector.</summary>
    public int Dimensions => _featureOfDimension.Length;

    /// <summary>Feature display texts.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The feature set, when the layout was built from one.</summary>
    public FeatureSet? Source { get; }

    /// <summary>The feature a dimension belongs to, or -1.</summary>
    public int FeatureOf(int dimension) => _featureOfDimension[dimension];

    /// <summary>Every dimension is its own feature, named x0, x1, ...</summary>
    public static InputLayout PerDimension(int dimensions) =>
        new(Enumerable.Range(0, dimensions).ToArray(), Enumerable.Range(0, dimensions).Select(i => $"x{i}").ToArray(), null);

    /// <summary>A [T × width] embedding matrix; features are the given ones (tokens, words or spans).</summary>
    public static InputLayout Embeddings(FeatureSet features, int width)
    {
        if (width < 1) throw new ArgumentOutOfRangeException(nameof(width), $"Embedding width must be positive, got {width}.");
        var map = new int[features.TokenCount * width];
        for (int t = 0; t < features.TokenCount; t++)
            for (int k = 0; k < width; k++) map[t * width + k] = features.FeatureOfToken(t);
        return new InputLayout(map, features.Names, features);
    }

    /// <summary>
    /// The baseline the path starts from: <paramref name="baseline"/> for dimensions of some feature, the input itself
    /// for dimensions of no feature. Those dimensions then never move along the path, take no share of
    /// f(x) − f(baseline), and completeness holds over the features that are reported.
    /// </summary>
    public double[] BaselineFor(double[] input, double[] baseline)
    {
        var held = (double[])baseline.Clone();
        for (int d = 0; d < held.Length; d++)
            if (_featureOfDimension[d] < 0) held[d] = input[d];
        return held;
    }

    /// <summary>Sums per-dimension attributions into per-feature ones.</summary>
    public double[] Aggregate(double[] perDimension)
    {
        if (perDimension.Length != Dimensions)
            throw new ArgumentException($"{perDimension.Length} attributions for an input of {Dimensions} dimensions.");
        var values = new double[Names.Count];
        for (int d = 0; d < perDimension.Length; d++)
            if (_featureOfDimension[d] >= 0) values[_featureOfDimension[d]] += perDimension[d];
        return values;
    }

    internal static ValueAndGradient[] Call(GradientValue f, IReadOnlyList<double[]> inputs, int dimensions)
    {
        var result = f(inputs);
        if (result is null || result.Length != inputs.Count)
            throw new KitException($"The gradient function returned {result?.Length ?? 0} results for {inputs.Count} inputs.");
        for (int i = 0; i < result.Length; i++)
        {
            if (result[i].Gradient is null || result[i].Gradient.Length != dimensions)
                throw new KitException(
                    $"The gradient function returned a gradient of length {result[i].Gradient?.Length ?? 0}; expected {dimensions}.");
            if (!double.IsFinite(result[i].Value) || result[i].Gradient.Any(g => !double.IsFinite(g)))
                throw new KitException("The gradient function returned a non-finite value or gradient.");
        }
        return result;
    }
}
