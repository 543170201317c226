namespace FineTune.Kit.Evaluation.Comparison;

/// <summary>The approaches no other approach beats on both accuracy (higher is better) and cost (lower is better).</summary>
public static class ParetoFront
{
    /// <summary>
    /// Indices of the non-dominated points, by increasing cost. A point is dominated when another is at least as
    /// accurate and at most as costly, and strictly better in one of the two. Identical points are all kept.
    /// </summary>
    public static IReadOnlyList<int> Of(IReadOnlyList<(double Accuracy, double Cost)> points)
    {
        var front = new List<int>();
        for (var i = 0; i < points.Count; i++)
        {
            var dominated = false;
            for (var j = 0; j < points.Count && !dominated; j++)
                dominated = j != i
                    && points[j].Accuracy >= points[i].Accuracy && points[j].Cost <= points[i].Cost
                    && (points[j].Accuracy > points[i].Accuracy || points[j].Cost < points[i].Cost);
            if (!dominated) front.Add(i);
        }
        return front.OrderBy(i => points[i].Cost).ThenByDescending(i => points[i].Accuracy).ToArray();
    }
}
