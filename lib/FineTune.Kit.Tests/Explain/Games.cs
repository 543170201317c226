using FineTune.Kit.Explain;

namespace FineTune.Kit.Tests.Explain;

/// <summary>Value functions with known answers, plus a recorder of how they were called.</summary>
internal sealed class Game
{
    private readonly Func<bool[], double> _v;

    public Game(int players, Func<bool[], double> v)
    {
        Players = players;
        _v = v;
    }

    public int Players { get; }
    public int Calls { get; private set; }
    public int LargestBatch { get; private set; }
    public List<bool[]> Seen { get; } = [];

    public FeatureSet Features => FeatureSet.Named(Enumerable.Range(0, Players).Select(i => $"p{i}").ToArray());

    public double[] Evaluate(IReadOnlyList<bool[]> coalitions)
    {
        Calls++;
        LargestBatch = Math.Max(LargestBatch, coalitions.Count);
        Seen.AddRange(coalitions.Select(c => (bool[])c.Clone()));
        return coalitions.Select(_v).ToArray();
    }

    public double Value(bool[] coalition) => _v(coalition);

    /// <summary>v(S) = c + Σ_{i∈S} w_i: Shapley values are exactly w.</summary>
    public static Game Additive(double constant, params double[] w) =>
        new(w.Length, z => constant + z.Select((b, i) => b ? w[i] : 0).Sum());

    /// <summary>Player 0 holds a left glove, players 1 and 2 right gloves; a pair is worth 1.</summary>
    public static Game Glove() => new(3, z => z[0] && (z[1] || z[2]) ? 1 : 0);

    /// <summary>Simple majority of three: any two players win.</summary>
    public static Game Majority() => new(3, z => z.Count(b => b) >= 2 ? 1 : 0);

    /// <summary>A game with pairwise and triple interactions and a non-linear term, deterministic from a seed.</summary>
    public static Game Interacting(int m, int seed = 3)
    {
        var rng = new Random(seed);
        var w = Enumerable.Range(0, m).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        return new Game(m, z =>
        {
            double v = 0.2;
            for (int i = 0; i < m; i++) if (z[i]) v += w[i];
            if (z[0] && z[1]) v += 1.5;
            if (z[2] && z[3] && z[4 % m]) v -= 2;
            int count = z.Count(b => b);
            v += 0.05 * count * count;
            return v;
        });
    }

    /// <summary>Shapley values by the permutation definition (independent of the code under test), M ≤ 8.</summary>
    public double[] ShapleyByPermutations()
    {
        int m = Players;
        var phi = new double[m];
        int perms = 0;
        foreach (var order in Permutations(Enumerable.Range(0, m).ToArray(), 0))
        {
            perms++;
            var z = new bool[m];
            double before = _v(z);
            foreach (var p in order)
            {
                z[p] = true;
                double after = _v(z);
                phi[p] += after - before;
                before = after;
            }
        }
        return phi.Select(x => x / perms).ToArray();
    }

    private static IEnumerable<int[]> Permutations(int[] a, int k)
    {
        if (k == a.Length) { yield return (int[])a.Clone(); yield break; }
        for (int i = k; i < a.Length; i++)
        {
            (a[k], a[i]) = (a[i], a[k]);
            foreach (var p in Permutations(a, k + 1)) yield return p;
            (a[k], a[i]) = (a[i], a[k]);
        }
    }
}

/// <summary>Structural equality of masks, to count distinct coalitions in tests.</summary>
internal sealed class MaskEquality : IEqualityComparer<bool[]>
{
    public bool Equals(bool[]? x, bool[]? y) => x!.SequenceEqual(y!);
    public int GetHashCode(bool[] m) => m.Aggregate(17, (h, b) => h * 31 + (b ? 1 : 0));
}
