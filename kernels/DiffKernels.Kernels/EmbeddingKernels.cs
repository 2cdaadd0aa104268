using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>
/// Sinusoidal timestep features. Phases reach ~10³ rad, where a float phase would carry ~10⁻⁴ rad
/// of rounding, so, as on the CPU, the frequency and the phase run in double (multiplications and
/// <see cref="DeviceMath.Exp(double)"/>; double stays here for that reason). The phase is reduced to
/// a fraction of a turn in double, exactly enough that sine and cosine then run in float
/// (<see cref="DeviceMath.SinCosTurns"/>) within an ulp of the double-precision values.
/// </summary>
internal static class EmbeddingKernels
{
    private const double InvTwoPi = 0.15915494309189535;

    private static double Frequency(int i, int half, double logPeriod) => DeviceMath.Exp(-logPeriod * i / half);

    /// <summary>y[r, i] = cos(t_r·fᵢ), y[r, half + i] = sin(t_r·fᵢ); one thread per (r, i).</summary>
    [Kernel]
    public static void Forward(Index1D e, ArrayView<float> t, ArrayView<float> y, int half, double logPeriod)
    {
        int i = e % half, r = e / half;
        double turns = t[r] * Frequency(i, half, logPeriod) * InvTwoPi;
        long q = (long)(4.0 * turns + (turns >= 0.0 ? 0.5 : -0.5));
        DeviceMath.SinCosQuarterTurns((float)(turns - 0.25 * q), (int)(q & 3), out float sin, out float cos);
        y[r * 2 * half + i] = cos;
        y[r * 2 * half + half + i] = sin;
    }

    /// <summary>dt[r] = Σᵢ fᵢ·(dy_sin·y_cos − dy_cos·y_sin); one thread per row.</summary>
    [Kernel]
    public static void Backward(Index1D r, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dt, int half, double logPeriod)
    {
        int o = r * 2 * half;
        double acc = 0;
        for (int i = 0; i < half; i++)
            acc += Frequency(i, half, logPeriod) * ((double)dy[o + half + i] * y[o + i] - (double)dy[o + i] * y[o + half + i]);
        dt[r] = (float)acc;
    }
}
