using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>
/// Philox4x32-10 fills, reproducing the CPU stream (IBackend.FillUniform / FillNormal): one thread per
/// block of four outputs, counter = offset + block (64-bit, in words c0/c1, c2 = c3 = 0), key = seed.
/// The integer part is bit-exact; uniform values are exact float products, hence bit-identical;
/// normal values come from Box–Muller in float (<see cref="DeviceMath"/>), within a few float ulp
/// of the CPU's double-precision transform.
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

    // (int) keeps the conversion in float: ILGPU converts an unsigned integer through double.
    private static float Uniform(uint u) => (int)(u >> 8) * (1f / 16777216f);

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

    /// <summary>Box–Muller on the word pairs (r0, r1) and (r2, r3): cosine branch first.</summary>
    [Kernel]
    public static void Normal(Index1D j, ArrayView<float> dst, int count, ulong seed, ulong offset, float mean, float std)
    {
        Block(offset + (ulong)(long)j.X, seed, out uint r0, out uint r1, out uint r2, out uint r3);
        BoxMuller(r0, r1, out float z0, out float z1);
        BoxMuller(r2, r3, out float z2, out float z3);
        Store(dst, j, count, mean + std * z0, mean + std * z1, mean + std * z2, mean + std * z3);
    }

    /// <summary>u1 in (0, 1] keeps the logarithm finite; u2 in [0, 1) is the angle in turns. Both are exact floats.</summary>
    private static void BoxMuller(uint a, uint c, out float z0, out float z1)
    {
        float u1 = ((int)(a >> 8) + 1) * (1f / 16777216f);
        float rho = MathF.Sqrt(-2f * DeviceMath.Log(u1));
        DeviceMath.SinCosTurns(Uniform(c), out float sin, out float cos);
        z0 = rho * cos;
        z1 = rho * sin;
    }
}
