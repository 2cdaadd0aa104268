using System.Runtime.CompilerServices;

namespace DiffKernels.Random;

/// <summary>
/// The Philox4x32-10 counter-based generator (Salmon et al., SC'11): a keyed bijection of a 128-bit
/// counter, so any block of the stream is computed independently of every other. This is what makes
/// the random kernels parallel and lets every backend reproduce the CPU stream exactly.
/// </summary>
public static class Philox
{
    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57;
    private const uint W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /// <summary>
    /// Computes one Philox4x32-10 block: counter (c0, c1, c2, c3), key (k0, k1) → four words in
    /// <paramref name="out4"/> (length ≥ 4), matching the Random123 reference.
    /// </summary>
    public static void Block(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, Span<uint> out4)
    {
        if (out4.Length < 4) throw new ArgumentException($"Philox.Block: output span has {out4.Length} elements, needs 4", nameof(out4));
        Block(c0, c1, c2, c3, k0, k1, out out4[0], out out4[1], out out4[2], out out4[3]);
    }

    /// <summary>The block for a 64-bit counter in (c0, c1) with c2 = c3 = 0 and a 64-bit key split low/high: the kernels' layout.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Block(ulong counter, ulong key, out uint r0, out uint r1, out uint r2, out uint r3) =>
        Block((uint)counter, (uint)(counter >> 32), 0, 0, (uint)key, (uint)(key >> 32), out r0, out r1, out r2, out r3);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, out uint r0, out uint r1, out uint r2, out uint r3)
    {
        for (int round = 0; round < 10; round++)
        {
            if (round > 0) { k0 += W0; k1 += W1; }
            ulong p0 = (ulong)M0 * c0, p1 = (ulong)M1 * c2;
            uint n0 = (uint)(p1 >> 32) ^ c1 ^ k0;
            uint n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
            c1 = (uint)p1;
            c3 = (uint)p0;
            c0 = n0;
            c2 = n2;
        }
        r0 = c0; r1 = c1; r2 = c2; r3 = c3;
    }
}
