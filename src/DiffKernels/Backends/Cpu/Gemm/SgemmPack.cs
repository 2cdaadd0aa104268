using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DiffKernels.Backends.Cpu.Gemm;

/// <summary>
/// Packing of op(A) and op(B) blocks into the panel layouts the micro-kernels stream through:
/// A as MR-row panels stored k-major (MR values per k), B as NR-column panels (NR values per k, NR
/// the micro-kernel's width).
/// Transposes are resolved here and ragged panels are zero-padded, so kernels never see either.
/// With AVX2 the transposing cases go through 8×8 register transposes. B packing writes exactly its
/// panels (participants pack neighbouring panels of one shared block); A packing may store up to 8
/// floats past its last panel, into the private buffer's slack.
/// </summary>
internal static unsafe class SgemmPack
{
    private const int MR = Sgemm.MR;

    /// <summary>Packs op(A)[i0..i0+mc, p0..p0+kc] into ⌈mc/MR⌉ panels of kc×MR.</summary>
    public static void PackA(bool transA, float* a, int lda, int i0, int mc, int p0, int kc, float* dst, bool avx)
    {
        int ir0 = 0;
        if (transA && avx)
        {
            ir0 = PackTransposedRows(a + (long)p0 * lda + i0, lda, mc, kc, dst);
            if (ir0 >= mc) return;
        }
        for (int ir = ir0; ir < mc; ir += MR)
        {
            int mr = Math.Min(MR, mc - ir);
            float* panel = dst + (long)ir * kc;
            if (transA)
            {
                // Stored k×m: the MR values for one k are adjacent.
                float* src = a + (long)p0 * lda + i0 + ir;
                for (int p = 0; p < kc; p++)
                {
                    float* s = src + (long)p * lda;
                    float* d = panel + p * MR;
                    int r = 0;
                    for (; r < mr; r++) d[r] = s[r];
                    for (; r < MR; r++) d[r] = 0f;
                }
            }
            else
            {
                // Stored m×k: MR rows, each contiguous along k, are transposed into the panel.
                float* src = a + (long)(i0 + ir) * lda + p0;
                int p = 0;
                if (mr == MR && avx)
                    for (; p + 8 <= kc; p += 8) TransposeRows6(src + p, lda, panel + p * MR);
                for (; p < kc; p++)
                {
                    float* d = panel + p * MR;
                    int r = 0;
                    for (; r < mr; r++) d[r] = src[(long)r * lda + p];
                    for (; r < MR; r++) d[r] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// The leading whole panels of a k×m-stored A (those whose 8-float loads stay inside the block's rows),
    /// walked one k row at a time: each row of A is read once, front to back, instead of once per panel
    /// at a stride of lda, which left the pack waiting on memory (a third of a weight gradient, whose A is dyᵀ).
    /// Each 8-float store overlaps the next k's slot of its panel, which the next row then overwrites; the last
    /// row stores exactly MR floats, so no store reaches the following panel. Returns the first row not packed.
    /// </summary>
    private static int PackTransposedRows(float* src, int lda, int mc, int kc, float* dst)
    {
        int end = 0;
        while (end + 8 <= mc) end += MR;
        for (int p = 0; p < kc - 1; p++)
        {
            float* row = src + (long)p * lda;
            float* d = dst + p * MR;
            for (int ir = 0; ir < end; ir += MR) Avx.Store(d + (long)ir * kc, Avx.LoadVector256(row + ir));
        }
        if (kc > 0)
        {
            float* row = src + (long)(kc - 1) * lda;
            float* d = dst + (kc - 1) * MR;
            for (int ir = 0; ir < end; ir += MR)
            {
                Sse.Store(d + (long)ir * kc, Sse.LoadVector128(row + ir));
                d[(long)ir * kc + 4] = row[ir + 4];
                d[(long)ir * kc + 5] = row[ir + 5];
            }
        }
        return end;
    }

    /// <summary>
    /// Packs op(B)[p0..p0+kc, j0..j0+nc] into ⌈nc/NR⌉ panels of kc×NR (NR of <typeparamref name="TK"/>);
    /// the SIMD transposes are used for every kernel but the portable one.
    /// </summary>
    public static void PackB<TK>(bool transB, float* b, int ldb, int p0, int kc, int j0, int nc, float* dst) where TK : IMicroKernel
    {
        int width = TK.NR;
        bool avx = Sgemm.Avx2Supported && typeof(TK) != typeof(PortableKernel);
        for (int jr = 0; jr < nc; jr += width)
        {
            int nr = Math.Min(width, nc - jr);
            float* panel = dst + (long)jr * kc;
            if (transB)
            {
                // Stored n×k: each output column is a contiguous run of k.
                float* src = b + (long)(j0 + jr) * ldb + p0;
                int p = 0;
                if (nr == width && avx)
                {
                    for (; p + 8 <= kc; p += 8)
                        for (int g = 0; g < width; g += 8)
                            Transpose8(src + (long)g * ldb + p, ldb, panel + p * width + g, width);
                }
                for (; p < kc; p++)
                {
                    float* d = panel + p * width;
                    int j = 0;
                    for (; j < nr; j++) d[j] = src[(long)j * ldb + p];
                    for (; j < width; j++) d[j] = 0f;
                }
            }
            else
            {
                // Stored k×n: each k contributes nr adjacent values.
                for (int p = 0; p < kc; p++)
                {
                    float* src = b + (long)(p0 + p) * ldb + j0 + jr;
                    float* d = panel + p * width;
                    if (nr == width)
                    {
                        Unsafe.CopyBlockUnaligned(d, src, (uint)(width * sizeof(float)));
                        continue;
                    }
                    Unsafe.CopyBlockUnaligned(d, src, (uint)(nr * sizeof(float)));
                    for (int j = nr; j < width; j++) d[j] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// Eight consecutive k of six rows (stride <paramref name="ld"/>) into eight groups of six at
    /// <paramref name="dst"/>; the last group's 8-float store runs 2 floats past the 48 written.
    /// </summary>
    private static void TransposeRows6(float* src, int ld, float* dst)
    {
        var z = Vector256<float>.Zero;
        Transpose(Avx.LoadVector256(src), Avx.LoadVector256(src + ld), Avx.LoadVector256(src + 2L * ld),
            Avx.LoadVector256(src + 3L * ld), Avx.LoadVector256(src + 4L * ld), Avx.LoadVector256(src + 5L * ld), z, z,
            out var o0, out var o1, out var o2, out var o3, out var o4, out var o5, out var o6, out var o7);
        Avx.Store(dst, o0);
        Avx.Store(dst + 6, o1);
        Avx.Store(dst + 12, o2);
        Avx.Store(dst + 18, o3);
        Avx.Store(dst + 24, o4);
        Avx.Store(dst + 30, o5);
        Avx.Store(dst + 36, o6);
        Avx.Store(dst + 42, o7);
    }

    /// <summary>An 8×8 block (rows at stride <paramref name="ld"/>) transposed into rows at stride <paramref name="dstLd"/>.</summary>
    private static void Transpose8(float* src, int ld, float* dst, int dstLd)
    {
        Transpose(Avx.LoadVector256(src), Avx.LoadVector256(src + ld), Avx.LoadVector256(src + 2L * ld), Avx.LoadVector256(src + 3L * ld),
            Avx.LoadVector256(src + 4L * ld), Avx.LoadVector256(src + 5L * ld), Avx.LoadVector256(src + 6L * ld), Avx.LoadVector256(src + 7L * ld),
            out var o0, out var o1, out var o2, out var o3, out var o4, out var o5, out var o6, out var o7);
        Avx.Store(dst, o0);
        Avx.Store(dst + dstLd, o1);
        Avx.Store(dst + 2 * dstLd, o2);
        Avx.Store(dst + 3 * dstLd, o3);
        Avx.Store(dst + 4 * dstLd, o4);
        Avx.Store(dst + 5 * dstLd, o5);
        Avx.Store(dst + 6 * dstLd, o6);
        Avx.Store(dst + 7 * dstLd, o7);
    }

    /// <summary>oᵢ = (r0[i], r1[i], …, r7[i]): interleave pairs, then quadruples, then swap 128-bit halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7,
        out Vector256<float> o0, out Vector256<float> o1, out Vector256<float> o2, out Vector256<float> o3,
        out Vector256<float> o4, out Vector256<float> o5, out Vector256<float> o6, out Vector256<float> o7)
    {
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        o0 = Avx.Permute2x128(u0, u4, 0x20);
        o1 = Avx.Permute2x128(u1, u5, 0x20);
        o2 = Avx.Permute2x128(u2, u6, 0x20);
        o3 = Avx.Permute2x128(u3, u7, 0x20);
        o4 = Avx.Permute2x128(u0, u4, 0x31);
        o5 = Avx.Permute2x128(u1, u5, 0x31);
        o6 = Avx.Permute2x128(u2, u6, 0x31);
        o7 = Avx.Permute2x128(u3, u7, 0x31);
    }
}
