namespace DiffKernels.Diffusion.Data.Toys;

/// <summary>
/// Two interleaved half circles of radius 1 (the lower one shifted by (1, −0.5)) with N(0, 0.1²)
/// noise, centred at (0.5, 0.25) and scaled by √2 (coordinate variances about 1.5 and 0.5).
/// </summary>
public sealed class TwoMoonsToy : ToyDistribution
{
    private const double Noise = 0.1;
    private static readonly double Scale = Math.Sqrt(2);

    /// <inheritdoc/>
    public override string Name => "moons";

    /// <inheritdoc/>
    protected override (double X, double Y) Point(float u0, float u1, float z0, float z1)
    {
        double a = Math.PI * u1;
        bool upper = u0 < 0.5f;
        double x = upper ? Math.Cos(a) : 1 - Math.Cos(a);
        double y = upper ? Math.Sin(a) : 0.5 - Math.Sin(a);
        return ((x + Noise * z0 - 0.5) * Scale, (y + Noise * z1 - 0.25) * Scale);
    }
}
