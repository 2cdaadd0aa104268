using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>
/// Sinusoidal timestep features. Phases reach ~10³ rad, so, as on the CPU, the frequency, the phase
/// and the trigonometry run in double.
/// </summary>
internal static class EmbeddingKernels
{
    private static double Frequency(int i, int half, double logPeriod) => Math.Exp(-logPeriod * i / half);

    /// <summary>y[r, i] = cos(t_r·fᵢ), y[r, half + i] = sin(t_r·fᵢ); one thread per (r, i).</summary>
    [Kernel]
    public static void Forward(Index1D e, ArrayView<float> t, ArrayView<float> y, int half, double logPeriod)
    {
        int i = e % half, r = e / half;
        double phase = t[r] * Frequency(i, half, logPeriod);
        y[r * 2 * half + i] = (float)Math.Cos(phase);
        y[r * 2 * half + half + i] = (float)Math.Sin(phase);
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
