namespace DiffKernels.Diffusion.Evaluation;

/// <summary>
/// How a set of predicted classes spreads over the classes: the counts, their entropy in nats and that
/// entropy over ln K (1 for a uniform spread, 0 when every sample lands in one class). A generator that
/// drops modes shows it here even when its samples look good.
/// </summary>
public sealed class ClassHistogram
{
    private ClassHistogram(int[] counts)
    {
        Counts = counts;
        long total = counts.Sum(c => (long)c);
        Total = total;
        double h = 0;
        foreach (var c in counts)
            if (c > 0)
            {
                double p = (double)c / total;
                h -= p * Math.Log(p);
            }
        Entropy = h;
        NormalisedEntropy = counts.Length > 1 ? h / Math.Log(counts.Length) : 0;
    }

    /// <summary>Samples per class.</summary>
    public IReadOnlyList<int> Counts { get; }

    /// <summary>Number of samples.</summary>
    public long Total { get; }

    /// <summary>−Σ p·ln p over the classes.</summary>
    public double Entropy { get; }

    /// <summary>Entropy / ln K, in [0, 1].</summary>
    public double NormalisedEntropy { get; }

    /// <summary>The histogram of <paramref name="predictions"/> (each in [0, <paramref name="classes"/>)).</summary>
    public static ClassHistogram From(ReadOnlySpan<int> predictions, int classes)
    {
        if (classes < 1) throw new ArgumentException($"ClassHistogram: classes must be ≥ 1, got {classes}");
        if (predictions.Length == 0) throw new ArgumentException("ClassHistogram: no predictions");
        var counts = new int[classes];
        foreach (var p in predictions)
        {
            if ((uint)p >= (uint)classes) throw new ArgumentException($"ClassHistogram: prediction {p} is outside 0..{classes - 1}");
            counts[p]++;
        }
        return new ClassHistogram(counts);
    }
}
