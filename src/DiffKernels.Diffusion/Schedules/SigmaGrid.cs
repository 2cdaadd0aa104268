namespace DiffKernels.Diffusion.Schedules;

/// <summary>
/// Decreasing noise-level grids for the ODE samplers, in double: N levels followed by a final 0, so a
/// grid of N levels has N steps.
/// </summary>
public static class SigmaGrid
{
    /// <summary>
    /// The Karras grid σᵢ = (σmax^(1/ρ) + i/(N−1)·(σmin^(1/ρ) − σmax^(1/ρ)))^ρ for i = 0..N−1, then 0.
    /// A single level is σmax.
    /// </summary>
    public static double[] Karras(int n, double sigmaMin = 0.002, double sigmaMax = 80, double rho = 7)
    {
        Check(n, sigmaMin, sigmaMax);
        if (!(rho > 0)) throw new ArgumentOutOfRangeException(nameof(rho), $"SigmaGrid.Karras: rho {rho} must be positive");
        var s = new double[n + 1];
        double a = Math.Pow(sigmaMax, 1 / rho), b = Math.Pow(sigmaMin, 1 / rho);
        for (int i = 0; i < n; i++)
            s[i] = n == 1 ? sigmaMax : Math.Pow(a + (double)i / (n - 1) * (b - a), rho);
        return s;
    }

    /// <summary>
    /// The grid DDIM walks for a VP model: time uniform from 1 to <paramref name="epsS"/> mapped by the VP
    /// schedule σ(t) = √(exp(½β_d·t² + β_min·t) − 1) (EDM's VP parameters). An Euler step in σ on this
    /// grid is exactly a deterministic DDIM step.
    /// </summary>
    public static double[] VpUniform(int n, double betaMin = 0.1, double betaD = 19.9, double epsS = 1e-3)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), $"SigmaGrid.VpUniform: {n} levels; need at least 1");
        if (!(epsS > 0 && epsS < 1)) throw new ArgumentOutOfRangeException(nameof(epsS), $"SigmaGrid.VpUniform: eps_s {epsS} must be in (0, 1)");
        var s = new double[n + 1];
        for (int i = 0; i < n; i++)
        {
            double t = n == 1 ? 1 : 1 + (double)i / (n - 1) * (epsS - 1);
            s[i] = Math.Sqrt(Math.Exp(0.5 * betaD * t * t + betaMin * t) - 1);
        }
        return s;
    }

    private static void Check(int n, double sigmaMin, double sigmaMax)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), $"SigmaGrid: {n} levels; need at least 1");
        if (!(sigmaMin > 0 && sigmaMax > sigmaMin) || !double.IsFinite(sigmaMax))
            throw new ArgumentOutOfRangeException(nameof(sigmaMin), $"SigmaGrid: need 0 < sigma_min ({sigmaMin}) < sigma_max ({sigmaMax})");
    }
}
