using System.Globalization;

namespace FineTune.Kit.Evaluation;

/// <summary>A point estimate with a two-sided confidence interval at <see cref="Level"/> (e.g. 0.95).</summary>
public readonly record struct ConfidenceInterval(double Estimate, double Lower, double Upper, double Level)
{
    /// <summary>Whether <paramref name="value"/> lies inside the interval (bounds included).</summary>
    public bool Contains(double value) => value >= Lower && value <= Upper;

    /// <summary>Half the interval width, a quick "±" figure.</summary>
    public double HalfWidth => (Upper - Lower) / 2;

    /// <summary>"0.812 [0.776, 0.846]".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Estimate:0.000} [{Lower:0.000}, {Upper:0.000}]");
}
