namespace DiffKernels.Diffusion.Data.Toys;

/// <summary>
/// A 2D swiss roll: t = 1.5π(1 + 2u), point (t·cos t, t·sin t) + N(0, 0.5²), divided by 7 so each
/// coordinate has variance about 1.
/// </summary>
public sealed class SwissRollToy : ToyDistribution
{
    private const double Noise = 0.5;
    private const double Scale = 1.0 / 7;

    /// <inheritdoc/>
    public override string Name => "swissroll";

    /// <inheritdoc/>
    protected override (double X, double Y) Point(float u0, float u1, float z0, float z1)
    {
        double t = 1.5 * Math.PI * (1 + 2 * u0);
        return ((t * Math.Cos(t) + Noise * z0) * Scale, (t * Math.Sin(t) + Noise * z1) * Scale);
    }
}
