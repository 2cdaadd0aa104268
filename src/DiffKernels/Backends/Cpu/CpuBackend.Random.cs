using DiffKernels.Random;

namespace DiffKernels.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void FillUniform(DeviceBuffer dst, long count, ulong seed, ulong offset)
    {
        var d = ((CpuBuffer)dst).Data;
        long blocks = (long)RandomBits.Blocks(count);
        CpuParallel.For(blocks, 16, (s, e) =>
        {
            Span<float> v = stackalloc float[4];
            for (long j = s; j < e; j++)
            {
                Philox.Block(offset + (ulong)j, seed, out uint r0, out uint r1, out uint r2, out uint r3);
                v[0] = RandomBits.Uniform(r0);
                v[1] = RandomBits.Uniform(r1);
                v[2] = RandomBits.Uniform(r2);
                v[3] = RandomBits.Uniform(r3);
                Store(d, j, count, v);
            }
        });
    }

    /// <inheritdoc/>
    public void FillNormal(DeviceBuffer dst, long count, ulong seed, ulong offset, float mean, float std)
    {
        var d = ((CpuBuffer)dst).Data;
        long blocks = (long)RandomBits.Blocks(count);
        double m = mean, sd = std;
        CpuParallel.For(blocks, 64, (s, e) =>
        {
            Span<float> v = stackalloc float[4];
            for (long j = s; j < e; j++)
            {
                Philox.Block(offset + (ulong)j, seed, out uint r0, out uint r1, out uint r2, out uint r3);
                var (z0, z1) = RandomBits.BoxMuller(r0, r1);
                var (z2, z3) = RandomBits.BoxMuller(r2, r3);
                v[0] = (float)(m + sd * z0);
                v[1] = (float)(m + sd * z1);
                v[2] = (float)(m + sd * z2);
                v[3] = (float)(m + sd * z3);
                Store(d, j, count, v);
            }
        });
    }

    /// <summary>Writes block <paramref name="j"/>'s four values, cut short at <paramref name="count"/>.</summary>
    private static void Store(CpuFloats d, long j, long count, ReadOnlySpan<float> v)
    {
        long i = j * 4;
        int n = (int)Math.Min(4, count - i);
        v[..n].CopyTo(d.AsSpan((int)i, n));
    }
}
