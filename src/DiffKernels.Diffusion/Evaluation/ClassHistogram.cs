namespace DiffKernels.Diffusion.Evaluation;

/// <summary>
/// How a set of predicted classes spreads over the classes: the counts, their entropy in nats and that
/// entropy over ln K (1 for a uniform spread, 0 when every sample lands in one class). A generator that
/// drops modes shows it here even when its samples look good. Samples asked of a range of the classes (a
/// <see cref="Subset"/>) are measured against that range: K is its size, and the share predicted inside it is kept.
/// </summary>
public sealed class ClassHistogram
{
    private ClassHistogram(int[] counts, (int First, int Last)? subset)
    {
        Counts = counts;
        Subset = subset;
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
        int k = subset is var (first, last) ? last - first + 1 : counts.Length;
        NormalisedEntropy = k > 1 ? h / Math.Log(k) : subset == null ? 0 : double.NaN;
        InSubset = subset is var (from, to) ? (double)counts[from..(to + 1)].Sum(c => (long)c) / total : 1;
    }

    /// <summary>Samples per class.</summary>
    public IReadOnlyList<int> Counts { get; }

    /// <summary>The range of classes the samples were asked of (null: all of them).</summary>
    public (int First, int Last)? Subset { get; }

    /// <summary>Number of samples.</summary>
    public long Total { get; }

    /// <summary>−Σ p·ln p over the classes.</summary>
    public double Entropy { get; }

    /// <summary>
    /// Entropy / ln K, K the number of classes or of the <see cref="Subset"/>'s classes: in [0, 1] without a subset; with
    /// one, above 1 only when predictions fall outside it, and NaN for a subset of one class (ln 1 = 0).
    /// </summary>
    public double NormalisedEntropy { get; }

    /// <summary>The share of the predictions inside the <see cref="Subset"/> (1 without one).</summary>
    public double InSubset { get; }

    /// <summary>
    /// The histogram of <paramref name="predictions"/> (each in [0, <paramref name="classes"/>)), measured against the
    /// range <paramref name="subset"/> of the classes when given.
    /// </summary>
    public static ClassHistogram From(ReadOnlySpan<int> predictions, int classes, (int First, int Last)? subset = null)
    {
        if (classes < 1) throw new ArgumentException($"ClassHistogram: classes must be ≥ 1, got {classes}");
        if (predictions.Length == 0) throw new ArgumentException("ClassHistogram: no predictions");
        if (subset is var (first, last) && (first < 0 || first > last || last >= classes))
            throw new ArgumentException($"ClassHistogram: subset {first}-{last} is not a range of the classes 0..{classes - 1}");
        var counts = new int[classes];
        foreach (var p in predictions)
        {
            if ((uint)p >= (uint)classes) throw new ArgumentException($"ClassHistogram: prediction {p} is outside 0..{classes - 1}");
            counts[p]++;
        }
        return new ClassHistogram(counts, subset);
    }
}
