using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Evaluation;

/// <summary>How a set of 2D points covers the modes of a mixture.</summary>
/// <param name="Covered">Modes holding at least the minimum fraction of the points.</param>
/// <param name="Total">Number of modes.</param>
/// <param name="OffModeFraction">Fraction of points within the radius of no mode.</param>
/// <param name="Fractions">Fraction of the points assigned to each mode (nearest mode within the radius).</param>
public sealed record ModeCoverage(int Covered, int Total, double OffModeFraction, double[] Fractions);

/// <summary>Distances and coverage measures between sets of points (interleaved, <c>dim</c> floats per point).</summary>
public static class ToyMetrics
{
    /// <summary>
    /// Sliced Wasserstein-2 distance: √(mean over directions θ of W₂²(θᵀa, θᵀb)), with
    /// <paramref name="projections"/> directions uniform on the sphere drawn from Generator(<paramref name="seed"/>).
    /// Each 1D W₂ compares the empirical quantile functions exactly, so the sets may differ in size.
    /// </summary>
    public static double SlicedWasserstein(float[] a, float[] b, int dim = 2, int projections = 256, ulong seed = 0)
    {
        if (dim < 1) throw new ArgumentOutOfRangeException(nameof(dim), $"SlicedWasserstein: dim {dim} must be ≥ 1");
        if (projections < 1) throw new ArgumentOutOfRangeException(nameof(projections), $"SlicedWasserstein: {projections} projections; need ≥ 1");
        if (a.Length % dim != 0 || b.Length % dim != 0 || a.Length == 0 || b.Length == 0)
            throw new ArgumentException($"SlicedWasserstein: point sets of {a.Length} and {b.Length} floats are not non-empty multiples of dim {dim}");
        var directions = Directions(projections, dim, seed);
        var squared = new double[projections];
        Parallel.For(0, projections, p =>
        {
            var theta = directions.AsSpan(p * dim, dim);
            squared[p] = W2Squared(Project(a, theta), Project(b, theta));
        });
        return Math.Sqrt(squared.Sum() / projections);
    }

    /// <summary>
    /// Assigns each point to its nearest mode if it lies within <paramref name="radiusInStd"/> of that mode's
    /// standard deviations; a mode is covered when it receives at least <paramref name="minFraction"/> of the points.
    /// </summary>
    public static ModeCoverage Coverage(float[] points, IReadOnlyList<ToyMode> modes, double minFraction = 0.01, double radiusInStd = 3)
    {
        if (modes.Count == 0) throw new ArgumentException("Coverage: the distribution has no modes");
        if (points.Length == 0 || points.Length % 2 != 0) throw new ArgumentException($"Coverage: {points.Length} floats are not a non-empty set of 2D points");
        int n = points.Length / 2;
        var counts = new int[modes.Count];
        int off = 0;
        for (int i = 0; i < n; i++)
        {
            double x = points[2 * i], y = points[2 * i + 1];
            int best = -1;
            double bestDistance = double.PositiveInfinity;
            for (int k = 0; k < modes.Count; k++)
            {
                double d = Math.Sqrt((x - modes[k].X) * (x - modes[k].X) + (y - modes[k].Y) * (y - modes[k].Y));
                if (d <= radiusInStd * modes[k].Std && d < bestDistance)
                {
                    best = k;
                    bestDistance = d;
                }
            }
            if (best < 0) off++;
            else counts[best]++;
        }
        var fractions = counts.Select(c => c / (double)n).ToArray();
        return new ModeCoverage(fractions.Count(f => f >= minFraction), modes.Count, off / (double)n, fractions);
    }

    private static double[] Directions(int count, int dim, ulong seed)
    {
        float[] z;
        using (Tensor.Scope()) z = new Generator(seed).Normal([count, dim], Device.Cpu).ToArray();
        var d = new double[count * dim];
        for (int p = 0; p < count; p++)
        {
            double norm = 0;
            for (int k = 0; k < dim; k++) norm += (double)z[p * dim + k] * z[p * dim + k];
            norm = Math.Sqrt(norm);
            for (int k = 0; k < dim; k++) d[p * dim + k] = z[p * dim + k] / norm;
        }
        return d;
    }

    private static double[] Project(float[] points, ReadOnlySpan<double> theta)
    {
        int dim = theta.Length, n = points.Length / dim;
        var v = new double[n];
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int k = 0; k < dim; k++) s += points[i * dim + k] * theta[k];
            v[i] = s;
        }
        Array.Sort(v);
        return v;
    }

    /// <summary>∫₀¹ (F⁻¹(u) − G⁻¹(u))² du for sorted samples: both quantile functions are steps at i/n and j/m.</summary>
    private static double W2Squared(double[] x, double[] y)
    {
        long n = x.Length, m = y.Length;
        int i = 0, j = 0;
        long previous = 0;
        double sum = 0;
        while (i < n && j < m)
        {
            // Breakpoints (i+1)/n and (j+1)/m compared as integers over the common denominator n·m.
            long ni = (i + 1) * m, nj = (j + 1) * n, next = Math.Min(ni, nj);
            double d = x[i] - y[j];
            sum += (next - previous) * d * d;
            previous = next;
            if (ni == next) i++;
            if (nj == next) j++;
        }
        return sum / (n * m);
    }
}
