namespace DiffKernels.Diffusion.Data.Toys;

/// <summary>
/// Uniform over the 8 dark squares of a 4×4 checkerboard on [−2, 2]², scaled by √3/2 so each
/// coordinate has variance 1 (the side of a square becomes √3/2).
/// </summary>
public sealed class CheckerboardToy : ToyDistribution
{
    private static readonly double Scale = Math.Sqrt(3) / 2;

    /// <inheritdoc/>
    public override string Name => "checkerboard";

    /// <summary>True when (x, y) (in the scaled coordinates) lies on a dark square.</summary>
    public static bool OnBoard(double x, double y)
    {
        double bx = x / Scale + 2, by = y / Scale + 2;
        if (bx < 0 || bx >= 4 || by < 0 || by >= 4) return false;
        return ((int)bx + (int)by) % 2 == 0;
    }

    /// <inheritdoc/>
    protected override (double X, double Y) Point(float u0, float u1, float z0, float z1)
    {
        // x uniform on [−2, 2); y uniform on the two dark squares of x's column.
        double x = 4.0 * u0 - 2;
        int column = (int)Math.Floor(x) + 2;
        double v = 4.0 * u1;
        int pair = Math.Min((int)(v / 2), 1);
        int row = 2 * pair + column % 2;
        double y = row + (v - 2 * pair) / 2 - 2;
        return (x * Scale, y * Scale);
    }
}
