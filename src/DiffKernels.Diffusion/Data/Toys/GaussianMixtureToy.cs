namespace DiffKernels.Diffusion.Data.Toys;

/// <summary>An equal-weight mixture of isotropic Gaussians (8 on a circle, 25 on a grid).</summary>
public sealed class GaussianMixtureToy : ToyDistribution
{
    private readonly ToyMode[] _modes;

    /// <summary>A mixture of <paramref name="modes"/>, each chosen with equal probability.</summary>
    public GaussianMixtureToy(string name, IEnumerable<ToyMode> modes)
    {
        Name = name;
        _modes = modes.ToArray();
        if (_modes.Length == 0) throw new ArgumentException($"{name}: a mixture needs at least one mode");
    }

    /// <inheritdoc/>
    public override string Name { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<ToyMode> Modes => _modes;

    /// <summary>
    /// Eight modes on a circle of radius √2 (per-coordinate variance of the centres is 1), std 0.1.
    /// </summary>
    public static GaussianMixtureToy EightGaussians(double std = 0.1)
    {
        double r = Math.Sqrt(2);
        return new("8gaussians", Enumerable.Range(0, 8).Select(k =>
            new ToyMode(r * Math.Cos(k * Math.PI / 4), r * Math.Sin(k * Math.PI / 4), std)));
    }

    /// <summary>
    /// A 5×5 grid at spacing 1/√2 centred on the origin (per-coordinate variance of the centres is 1), std 0.05.
    /// </summary>
    public static GaussianMixtureToy TwentyFiveGaussians(double std = 0.05)
    {
        double h = 1 / Math.Sqrt(2);
        return new("25gaussians", from i in Enumerable.Range(-2, 5)
                                  from j in Enumerable.Range(-2, 5)
                                  select new ToyMode(i * h, j * h, std));
    }

    /// <inheritdoc/>
    protected override (double X, double Y) Point(float u0, float u1, float z0, float z1)
    {
        var m = _modes[Pick(u0, _modes.Length)];
        return (m.X + m.Std * z0, m.Y + m.Std * z1);
    }
}
