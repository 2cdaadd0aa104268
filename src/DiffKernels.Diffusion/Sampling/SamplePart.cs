namespace DiffKernels.Diffusion.Sampling;

/// <summary>
/// Samples [<paramref name="First"/>, First + n) of a draw of <paramref name="Total"/> samples: drawn alone, they have the
/// values (noise, latents, balanced labels) the whole draw gives them, so a large draw can be made and written a part at
/// a time in bounded memory. The noise of a part starts inside the Philox stream, which is exact when First times the
/// values per sample is a multiple of 4 (<see cref="Alignment"/>).
/// </summary>
/// <param name="First">Index of the part's first sample in the whole draw.</param>
/// <param name="Total">Samples in the whole draw.</param>
public readonly record struct SamplePart(long First, long Total)
{
    /// <summary>Samples per part boundary that keep every part exact for samples of <paramref name="numel"/> values.</summary>
    public static int Alignment(long numel) => numel % 4 == 0 ? 1 : numel % 2 == 0 ? 2 : 4;

    /// <summary>The Philox block where the part's values of draw <paramref name="draw"/> (0: the initial noise, then one per later draw) begin.</summary>
    public ulong Offset(long numel, int draw) => (ulong)draw * (ulong)((Total * numel + 3) / 4) + (ulong)(First * numel / 4);

    /// <summary>
    /// Balanced labels (<paramref name="firstClass"/> + i mod classes, i counted over the whole draw) of the part's
    /// <paramref name="n"/> samples: classes firstClass to firstClass + classes − 1 in turn.
    /// </summary>
    public static float[] BalancedLabels(SamplePart part, int n, int classes, int firstClass = 0) =>
        Enumerable.Range(0, n).Select(i => (float)(firstClass + (part.First + i) % classes)).ToArray();

    /// <summary><paramref name="part"/>, or the whole draw of <paramref name="n"/>, checked to hold the n samples and start on an exact boundary.</summary>
    internal static SamplePart Check(SamplePart? part, int n, long numel)
    {
        var p = part ?? new SamplePart(0, n);
        if (p.First < 0 || p.First + n > p.Total)
            throw new ArgumentOutOfRangeException(nameof(part), $"samples [{p.First}, {p.First + n}) do not lie in a draw of {p.Total}");
        if (p.First * numel % 4 != 0)
            throw new ArgumentException($"a part of a draw must start at a multiple of {Alignment(numel)} samples of {numel} values; it starts at {p.First}", nameof(part));
        return p;
    }
}
