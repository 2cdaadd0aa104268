using DiffKernels.Diffusion.Schedules;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Dmd2;

/// <summary>
/// The N-point Karras grid (σ_min 0.002, σ_max 80, ρ = 7; index 0 is σ_max) every DMD2 noise level comes from: the
/// student's K fixed levels, the distribution-matching σ (uniform over the grid indices between two fractions of it,
/// counted from the σ_min end as the reference's timesteps are) and the fake denoiser's σ (uniform over all indices).
/// </summary>
public sealed class Dmd2Grid
{
    private readonly double[] _sigmas;

    /// <summary>The grid of <paramref name="points"/> levels.</summary>
    public Dmd2Grid(int points)
    {
        if (points < 2) throw new ArgumentOutOfRangeException(nameof(points), $"Dmd2Grid: {points} points; need at least 2");
        _sigmas = SigmaGrid.Karras(points)[..points];
    }

    /// <summary>Its levels, decreasing from σ_max.</summary>
    public IReadOnlyList<double> Sigmas => _sigmas;

    /// <summary>
    /// The <paramref name="k"/> student levels: grid indices ⌊i·N/K⌋ for i &lt; K (for N = 1000, K = 4: the reference's
    /// timesteps 999/749/499/249), starting at σ_max. Throws when the grid cannot give K distinct levels.
    /// </summary>
    public double[] StudentLevels(int k)
    {
        int n = _sigmas.Length;
        if (k < 1 || k > n) throw new ArgumentOutOfRangeException(nameof(k), $"Dmd2Grid: {k} student steps cannot be taken from the {n}-point σ grid (1 to {n} distinct levels)");
        return Enumerable.Range(0, k).Select(i => _sigmas[(int)((long)i * n / k)]).ToArray();
    }

    /// <summary>
    /// σ [count] drawn uniformly over the grid indices whose position from the σ_min end lies in
    /// [⌊<paramref name="minFraction"/>·N⌋, ⌊<paramref name="maxFraction"/>·N⌋] (capped at N − 1).
    /// </summary>
    public Tensor Sample(int count, Generator rng, Device device, double minFraction = 0, double maxFraction = 1)
    {
        int n = _sigmas.Length;
        int lo = (int)Math.Floor(minFraction * n), hi = Math.Min((int)Math.Floor(maxFraction * n), n - 1);
        var u = rng.Uniform([count], Device.Cpu).ToArray();
        var sigma = u.Select(v => (float)_sigmas[n - 1 - Math.Min(lo + (int)(v * (hi - lo + 1)), hi)]).ToArray();
        return Tensor.FromSpan(sigma, [count], device);
    }
}
