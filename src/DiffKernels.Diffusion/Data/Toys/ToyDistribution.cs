using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Data.Toys;

/// <summary>One Gaussian component of a toy mixture: its centre and per-axis standard deviation.</summary>
/// <param name="X">Centre, first coordinate.</param>
/// <param name="Y">Centre, second coordinate.</param>
/// <param name="Std">Isotropic standard deviation.</param>
public readonly record struct ToyMode(double X, double Y, double Std);

/// <summary>
/// A 2D distribution generated in code, scaled to roughly unit variance per coordinate. Samples
/// are drawn from a <see cref="Generator"/>, so the same seed and offset give the same points.
/// Points are returned interleaved: [x₀, y₀, x₁, y₁, ...].
/// </summary>
public abstract class ToyDistribution
{
    /// <summary>Short name used on the command line (toy:NAME).</summary>
    public abstract string Name { get; }

    /// <summary>The Gaussian components, for mode coverage; empty for distributions without modes.</summary>
    public virtual IReadOnlyList<ToyMode> Modes => [];

    /// <summary>Draws <paramref name="n"/> points as N×2 interleaved floats.</summary>
    public float[] Sample(int n, Generator gen)
    {
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), $"{Name}: sample count {n} must be ≥ 0");
        var points = new float[2 * n];
        if (n == 0) return points;
        using var scope = Tensor.Scope();
        // Two uniforms and two normals per point cover every toy; each toy uses what it needs.
        var u = gen.Uniform([n, 2], Device.Cpu).ToArray();
        var z = gen.Normal([n, 2], Device.Cpu).ToArray();
        for (int i = 0; i < n; i++)
        {
            var (x, y) = Point(u[2 * i], u[2 * i + 1], z[2 * i], z[2 * i + 1]);
            points[2 * i] = (float)x;
            points[2 * i + 1] = (float)y;
        }
        return points;
    }

    /// <summary>Draws <paramref name="n"/> points as a tensor [n, 2].</summary>
    public Tensor SampleTensor(int n, Generator gen, Device? device = null) => Tensor.FromSpan(Sample(n, gen), [n, 2], device);

    /// <summary>One point from two U[0, 1) and two N(0, 1) draws.</summary>
    protected abstract (double X, double Y) Point(float u0, float u1, float z0, float z1);

    /// <summary>Index in [0, count) from a uniform draw in [0, 1).</summary>
    protected static int Pick(float u, int count) => Math.Min((int)(u * count), count - 1);

    /// <summary>The names accepted by <see cref="FromName"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["8gaussians", "25gaussians", "checkerboard", "swissroll", "moons"];

    /// <summary>The toy called <paramref name="name"/> (see <see cref="Names"/>).</summary>
    public static ToyDistribution FromName(string name) => name switch
    {
        "8gaussians" => GaussianMixtureToy.EightGaussians(),
        "25gaussians" => GaussianMixtureToy.TwentyFiveGaussians(),
        "checkerboard" => new CheckerboardToy(),
        "swissroll" => new SwissRollToy(),
        "moons" => new TwoMoonsToy(),
        _ => throw new ArgumentException($"unknown toy '{name}'; expected one of {string.Join(", ", Names)}"),
    };
}
