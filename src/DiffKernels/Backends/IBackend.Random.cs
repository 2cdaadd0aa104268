namespace DiffKernels.Backends;

public partial interface IBackend
{
    /// <summary>
    /// Fills dst[0, count) with uniform floats in [0, 1), a pure function of (seed, offset, i):
    /// <list type="number">
    /// <item>element i uses the Philox4x32-10 block with counter c0 = low32(b), c1 = high32(b), c2 = c3 = 0
    /// where b = offset + ⌊i/4⌋ (64-bit, wrapping), and key k0 = low32(seed), k1 = high32(seed);</item>
    /// <item>it takes output word u = r[i mod 4];</item>
    /// <item>value = (float)(u &gt;&gt; 8) · 2⁻²⁴, exact in float32, so never 1.</item>
    /// </list>
    /// A call consumes ⌈count/4⌉ blocks; the caller advances its offset by that much.
    /// Backends must reproduce this bit for bit.
    /// </summary>
    void FillUniform(DeviceBuffer dst, long count, ulong seed, ulong offset);

    /// <summary>
    /// Fills dst[0, count) with normal samples mean + std·z, a pure function of (seed, offset, i). Element i
    /// uses the same block b = offset + ⌊i/4⌋ and key as <see cref="FillUniform"/>, giving words r0..r3.
    /// Lanes pair up: (r0, r1) gives elements 4b′, 4b′+1 and (r2, r3) gives 4b′+2, 4b′+3 (b′ = ⌊i/4⌋).
    /// For a pair (a, c), in double precision:
    /// u1 = ((a &gt;&gt; 8) + 1) · 2⁻²⁴ ∈ (0, 1] (so the log is finite), u2 = (c &gt;&gt; 8) · 2⁻²⁴ ∈ [0, 1),
    /// ρ = √(−2 ln u1), θ = 2π·u2; the first element of the pair is z = ρ cos θ, the second z = ρ sin θ;
    /// the stored value is (float)(mean + std·z) with mean and std widened to double.
    /// A call consumes ⌈count/4⌉ blocks. The integer part is bit-exact on every backend; the result is
    /// bit-exact wherever double log/sqrt/sin/cos are correctly rounded, otherwise within one float32 ulp.
    /// </summary>
    void FillNormal(DeviceBuffer dst, long count, ulong seed, ulong offset, float mean, float std);
}
