using FineTune.Kit.Models;

namespace FineTune.Kit.Tests.Preferences;

/// <summary>
/// The hand computation the preference code is checked against: a response's log-probability given its prompt,
/// summed token by token from the model's logits in double precision with a stable log-sum-exp.
/// </summary>
internal static class HandLogProbs
{
    public static double Sum(CausalLM model, long[] prompt, long[] response)
    {
        var ids = prompt.Concat(response).ToArray();
        var logits = model.Logits(ids);
        double sum = 0;
        for (int t = prompt.Length; t < ids.Length; t++)
        {
            var row = logits[t - 1].Select(v => (double)v).ToArray();
            double m = row.Max(), z = row.Sum(v => Math.Exp(v - m));
            sum += row[ids[t]] - m - Math.Log(z);
        }
        return sum;
    }
}
