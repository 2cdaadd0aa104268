using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>
/// Philox4x32-10 fills, reproducing the CPU stream (IBackend.FillUniform / FillNormal): one thread per
/// block of four outputs, counter = offset + block (64-bit, in words c0/c1, c2 = c3 = 0), key = seed.
/// The integer part is bit-exact; uniform values are exact float products, hence bit-identical.
/// </summary>
internal static class RandomKernels
{
    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57;
    private const uint W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    private static void Block(ulong counter, ulong key, out uint r0, out uint r1, out uint r2, out uint r3)
    {
        uint c0 = (uint)counter, c1 = (uint)(counter >> 32), c2 = 0, c3 = 0;
        uint k0 = (uint)key, k1 = (uint)(key >> 32);
        for (int round = 0; round < 10; round++)
        {
            if (round > 0)
            {
                k0 += W0;
                k1 += W1;
            }
            ulong p0 = (ulong)M0 * c0, p1 = (ulong)M1 * c2;
            uint n0 = (uint)(p1 >> 32) ^ c1 ^ k0;
            uint n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
            c1 = (uint)p1;
            c3 = (uint)p0;
            c0 = n0;
            c2 = n2;
        }
        r0 = c0;
        r1 = c1;
        r2 = c2;
        r3 = c3;
    }

    private static float Uniform(uint u) => (u >> 8) * (1f / 16777216f);

    private static void Store(ArrayView<float> d, int block, int count, float v0, float v1, float v2, float v3)
    {
        int i = block * 4;
        d[i] = v0;
        if (i + 1 < count) d[i + 1] = v1;
        if (i + 2 < count) d[i + 2] = v2;
        if (i + 3 < count) d[i + 3] = v3;
    }

    [Kernel]
    public static void Uniform(Index1D j, ArrayView<float> dst, int count, ulong seed, ulong offset)
    {
        Block(offset + (ulong)(long)j.X, seed, out uint r0, out uint r1, out uint r2, out uint r3);
        Store(dst, j, count, Uniform(r0), Uniform(r1), Uniform(r2), Uniform(r3));
    }

    /// <summary>Box–Muller in double on the word pairs (r0, r1) and (r2, r3): cosine branch first.</summary>
    [Kernel]
    public static void Normal(Index1D j, ArrayView<float> dst, int count, ulong seed, ulong offset, double mean, double std)
    {
        Block(offset + (ulong)(long)j.X, seed, out uint r0, out uint r1, out uint r2, out uint r3);
        BoxMuller(r0, r1, out double z0, out double z1);
        BoxMuller(r2, r3, out double z2, out double z3);
        Store(dst, j, count, (float)(mean + std * z0), (float)(mean + std * z1), (float)(mean + std * z2), (float)(mean + std * z3));
    }

    private static void BoxMuller(uint a, uint c, out double z0, out double z1)
    {
        double u1 = ((a >> 8) + 1) * (1.0 / 16777216.0);
        double u2 = (c >> 8) * (1.0 / 16777216.0);
        double rho = Math.Sqrt(-2.0 * Math.Log(u1));
        double theta = 2.0 * Math.PI * u2;
        z0 = rho * Math.Cos(theta);
        z1 = rho * Math.Sin(theta);
    }
}
