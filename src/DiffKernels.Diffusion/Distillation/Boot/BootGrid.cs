namespace DiffKernels.Diffusion.Distillation.Boot;

/// <summary>BOOT's decreasing grid of noise levels σ_0 = σmax &gt; … &gt; σ_{N−1} = σmin, in double.</summary>
public static class BootGrid
{
    /// <summary><paramref name="points"/> levels (≥ 2) of <paramref name="kind"/> from <paramref name="sigmaMax"/> down to <paramref name="sigmaMin"/>.</summary>
    public static double[] Levels(BootGridKind kind, int points, double sigmaMin, double sigmaMax, double rho = 7)
    {
        if (points < 2) throw new ArgumentOutOfRangeException(nameof(points), $"BOOT grid: {points} points; need at least 2 (one pair)");
        if (!(sigmaMin > 0 && sigmaMax > sigmaMin) || !double.IsFinite(sigmaMax))
            throw new ArgumentOutOfRangeException(nameof(sigmaMin), $"BOOT grid: need 0 < σmin ({sigmaMin}) < σmax ({sigmaMax})");
        var s = new double[points];
        if (kind == BootGridKind.Karras)
        {
            double a = Math.Pow(sigmaMax, 1 / rho), b = Math.Pow(sigmaMin, 1 / rho);
            for (int i = 0; i < points; i++) s[i] = Math.Pow(a + (double)i / (points - 1) * (b - a), rho);
        }
        else
        {
            double a = Math.Log(sigmaMax), b = Math.Log(sigmaMin);
            for (int i = 0; i < points; i++) s[i] = Math.Exp(a + (double)i / (points - 1) * (b - a));
        }
        // The ends are exact, so the first pair starts at the boundary and sampling ends where training did.
        s[0] = sigmaMax;
        s[^1] = sigmaMin;
        return s;
    }
}
