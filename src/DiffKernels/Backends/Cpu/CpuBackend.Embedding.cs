namespace DiffKernels.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void TimestepEmbedding(DeviceBuffer t, DeviceBuffer y, int n, int half, float maxPeriod)
    {
        var tv = ((CpuBuffer)t).Data;
        var yv = ((CpuBuffer)y).Data;
        var freq = TimestepFrequencies(half, maxPeriod);
        CpuParallel.For(n, half * 40L, (s, e) =>
        {
            for (long r = s; r < e; r++)
            {
                long o = r * 2 * half;
                // Phases reach ~10³ rad for diffusion timesteps; in float their rounding alone would cost
                // ~10⁻⁴ absolute, so the phase and the trig run in double.
                double tr = tv[r];
                for (int i = 0; i < half; i++)
                {
                    var (sin, cos) = Math.SinCos(tr * freq[i]);
                    yv[o + i] = (float)cos;
                    yv[o + half + i] = (float)sin;
                }
            }
        });
    }

    /// <inheritdoc/>
    public void TimestepEmbeddingBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dt, int n, int half, float maxPeriod)
    {
        var yv = ((CpuBuffer)y).Data;
        var gv = ((CpuBuffer)dy).Data;
        var dv = ((CpuBuffer)dt).Data;
        var freq = TimestepFrequencies(half, maxPeriod);
        CpuParallel.For(n, half * 4L, (s, e) =>
        {
            for (long r = s; r < e; r++)
            {
                long o = r * 2 * half;
                double acc = 0;
                for (int i = 0; i < half; i++)
                    acc += freq[i] * ((double)gv[o + half + i] * yv[o + i] - (double)gv[o + i] * yv[o + half + i]);
                dv[r] = (float)acc;
            }
        });
    }

    private static double[] TimestepFrequencies(int half, float maxPeriod)
    {
        var f = new double[half];
        double logPeriod = Math.Log(maxPeriod);
        for (int i = 0; i < half; i++) f[i] = Math.Exp(-logPeriod * i / half);
        return f;
    }
}
